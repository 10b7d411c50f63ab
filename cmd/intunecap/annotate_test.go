package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
)

// needTool finds a command the test needs; under CI it must be there, elsewhere the test says why it skips.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (scripts/deps.sh installs it)", name)
	}
	t.Skipf("skipped: %s is not installed (scripts/deps.sh installs it)", name)
	return ""
}

func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(needTool(t, name), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// annotateDemo writes the demo capture annotated, with its coloring rules, and returns both paths.
func annotateDemo(t *testing.T) (capture, colors string) {
	t.Helper()
	dir := t.TempDir()
	capture, colors = filepath.Join(dir, "demo.annotated.pcapng"), filepath.Join(dir, "colorfilters")
	var stdout, stderr bytes.Buffer
	code := run([]string{"annotate", "-o", capture, "--wireshark-colors", colors, "../../testdata/pcaps/demo.pcapng"},
		nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("annotate exited %d: %s", code, stderr.String())
	}
	return capture, colors
}

// TestAnnotateDemoInWireshark reads the annotated demo back with tshark: exactly the expected comments on the
// expected frames (testdata/annotate/demo.comments, rewritten with -update), and the same packets as the input.
func TestAnnotateDemoInWireshark(t *testing.T) {
	needTool(t, "tshark")
	out, _ := annotateDemo(t)
	got := tool(t, "tshark", "-r", out, "-Y", "frame.comment", "-T", "fields", "-E", "occurrence=a",
		"-E", "aggregator=|", "-e", "frame.number", "-e", "frame.comment")
	golden := "../../testdata/annotate/demo.comments"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("comments differ from %s (run with -update if intended):\n%s", golden, lineDiff(string(want), got))
	}
	if !strings.Contains(got, "intunecap: blocked after-syn; ctldl.windowsupdate.com") {
		t.Error("the unanswered SYN's comment is missing")
	}
	in := "../../testdata/pcaps/demo.pcapng"
	for _, field := range []string{"frame.number", "frame.len", "frame.cap_len", "frame.time_epoch", "frame.interface_id"} {
		a := tool(t, "tshark", "-r", in, "-T", "fields", "-e", field)
		b := tool(t, "tshark", "-r", out, "-T", "fields", "-e", field)
		if a != b {
			t.Errorf("%s differs between the input and the annotated capture", field)
		}
	}
	a := tool(t, "tshark", "-r", in, "-x")
	b := tool(t, "tshark", "-r", out, "-x")
	if a != b {
		t.Error("packet bytes differ between the input and the annotated capture")
	}
}

// TestAnnotatedCaptureOpensInTheWiresharkTools checks that capinfos counts the same packets and bytes, and that
// editcap and mergecap accept the output.
func TestAnnotatedCaptureOpensInTheWiresharkTools(t *testing.T) {
	needTool(t, "tshark")
	out, _ := annotateDemo(t)
	in := "../../testdata/pcaps/demo.pcapng"
	counts := func(f string) string { return tool(t, "capinfos", "-T", "-r", "-c", "-d", f) }
	if a, b := counts(in), counts(out); a[strings.IndexByte(a, '\t'):] != b[strings.IndexByte(b, '\t'):] {
		t.Errorf("capinfos: input %q, annotated %q", a, b)
	}
	dir := t.TempDir()
	tool(t, "editcap", "-r", out, filepath.Join(dir, "first10.pcapng"), "1-10")
	tool(t, "mergecap", "-w", filepath.Join(dir, "merged.pcapng"), out, in)
	if n := tool(t, "capinfos", "-T", "-r", "-c", filepath.Join(dir, "merged.pcapng")); !strings.Contains(n, "\t356") {
		t.Errorf("mergecap of the annotated and the original demo: %q, want 356 packets", n)
	}
}

// TestColorFiltersLoadInTshark loads the coloring rules through a tshark profile: tshark warns about any rule
// it cannot compile, and a broken rule shows that the check can fail.
func TestColorFiltersLoadInTshark(t *testing.T) {
	needTool(t, "tshark")
	out, colors := annotateDemo(t)
	rulesText, err := os.ReadFile(colors)
	if err != nil {
		t.Fatal(err)
	}
	load := func(text string) string {
		cfg := t.TempDir()
		prof := filepath.Join(cfg, "profiles", "intunecap")
		if err := os.MkdirAll(prof, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(prof, "colorfilters"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("tshark", "-C", "intunecap", "--color", "-r", out, "-c", "1")
		cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+cfg)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tshark with the coloring rules: %v\n%s", err, b)
		}
		return string(b)
	}
	if msg := load(string(rulesText)); strings.Contains(msg, "colorfilters") {
		t.Errorf("tshark did not accept the coloring rules:\n%s", msg)
	}
	if lines := strings.Count(string(rulesText), "\n@intunecap "); lines < 6 {
		t.Errorf("%d rules, want one per verdict", lines)
	}
	broken := strings.Replace(string(rulesText), "frame.comment", "frame.nosuchfield", 1)
	if msg := load(broken); !strings.Contains(msg, "colorfilters") {
		t.Error("tshark said nothing about a broken rule: this check cannot fail")
	}
}

func TestAnnotateRefusesToOverwriteItsInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcapng")
	data, err := os.ReadFile("../../testdata/pcaps/demo.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pcapng")
	if err := os.Link(in, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"annotate", "-o", in, in},
		{"annotate", "-o", link, in},
		{"annotate", "--wireshark-colors", in, "-o", filepath.Join(dir, "out.pcapng"), in},
		{"annotate", in},
		{"annotate", "-o", filepath.Join(dir, "x.pcapng"), "-"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != 2 {
			t.Errorf("%q exited %d, want 2", args, code)
		}
		if n := strings.Count(stderr.String(), "\n"); n != 1 {
			t.Errorf("%q: want one error line, got %q", args, stderr.String())
		}
	}
	after, _ := os.ReadFile(in)
	if !bytes.Equal(after, data) {
		t.Fatal("the input capture was changed")
	}
}

// TestDisplayFiltersFindTheRecordsPackets runs each TCP record's display filter through tshark over the demo:
// the filter must compile and show exactly the packets the record counts.
func TestDisplayFiltersFindTheRecordsPackets(t *testing.T) {
	needTool(t, "tshark")
	var stdout, stderr bytes.Buffer
	in := "../../testdata/pcaps/demo.pcapng"
	run([]string{"analyze", "--format", "jsonl", "--quiet", in}, nil, &stdout, &stderr)
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r result.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Proto != "tcp" || r.ViaProxy {
			continue
		}
		filter := result.DisplayFilter(&r)
		n := strings.Count(tool(t, "tshark", "-r", in, "-Y", filter, "-T", "fields", "-e", "frame.number"), "\n")
		if n != r.Packets {
			t.Errorf("%s: tshark shows %d packets, the record counts %d", filter, n, r.Packets)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d TCP records checked", checked)
	}
}

// TestAnalyzeAnnotateMatchesAnnotate checks that analyze --annotate writes the same bytes as annotate.
func TestAnalyzeAnnotateMatchesAnnotate(t *testing.T) {
	dir := t.TempDir()
	viaAnalyze := filepath.Join(dir, "a.pcapng")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "-q", "--annotate", viaAnalyze, "--format", "json", "../../testdata/pcaps/demo.pcapng"},
		nil, &stdout, &stderr); code != 1 {
		t.Fatalf("analyze exited %d, want 1 (the demo fails): %s", code, stderr.String())
	}
	viaAnnotate, _ := annotateDemo(t)
	a, err := os.ReadFile(viaAnalyze)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(viaAnnotate)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("analyze --annotate and annotate wrote different captures")
	}
	if code := run([]string{"analyze", "--annotate", "../../testdata/pcaps/demo.pcapng", "../../testdata/pcaps/demo.pcapng"},
		nil, &stdout, &stderr); code != 2 {
		t.Errorf("--annotate over the input exited %d, want 2", code)
	}
}
