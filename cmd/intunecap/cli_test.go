package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"unicode/utf8"
)

// relabel copies a pcapng file with every interface's link type rewritten, the way a capture tool that writes
// PKTAP (258) or radiotap (127) headers would label it: the packets stay Ethernet, but nothing can read them.
func relabel(t *testing.T, src string, linkType uint16) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b[8:]) != 0x1a2b3c4d {
		t.Fatalf("%s: not a little-endian pcapng file", src)
	}
	n := 0
	for off := 0; off+12 <= len(b); {
		typ, size := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if size < 12 || off+size > len(b) {
			t.Fatalf("%s: bad block at %d", src, off)
		}
		if typ == 1 { // Interface Description Block: link type is the first field of the body
			binary.LittleEndian.PutUint16(b[off+8:], linkType)
			n++
		}
		off += size
	}
	if n == 0 {
		t.Fatalf("%s: no interface description block", src)
	}
	return write(t, t.TempDir(), filepath.Base(src), b)
}

// TestInconclusive checks that a capture the tool cannot see into is never a pass: a relabelled demo (all of
// its packets undecodable) and captures with no Intune traffic exit 3 and say why and what to do.
func TestInconclusive(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	other := filepath.Join(pcapsDir, "other.pcap")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"pktap", []string{relabel(t, demo, 258)}, 3, []string{"INCONCLUSIVE: ",
			"178 of 178 packets (100%) could not be decoded", "tcpdump -i eth0"}},
		{"radiotap", []string{relabel(t, demo, 127)}, 3, []string{"INCONCLUSIVE: ", "could not be decoded"}},
		{"pktap, allow-empty", []string{"--allow-empty", relabel(t, demo, 258)}, 3, []string{"INCONCLUSIVE: "}},
		{"wrong place", []string{other}, 3, []string{"INCONCLUSIVE: ", "no Intune traffic seen", "--allow-empty"}},
		{"wrong place, allow-empty", []string{"--allow-empty", other}, 0,
			[]string{"PASS: no Intune traffic seen, and none was expected (--allow-empty)"}},
		{"unlisted only", []string{filepath.Join(pcapsDir, "unlisted.pcap")}, 3,
			[]string{"1 Microsoft name was seen that the table does not list (--rules intune-current lists 1 of them)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"analyze"}, tt.args...), nil, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			flat := strings.Join(strings.Fields(out.String()), " ")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "PASS") != (tt.code == 0) {
				t.Errorf("PASS shown = %v with exit %d", !(tt.code == 0), tt.code)
			}
		})
	}
	t.Run("json and check agree", func(t *testing.T) {
		pktap := relabel(t, demo, 258)
		var out, errOut bytes.Buffer
		if code := run([]string{"analyze", "--format", "json", pktap}, nil, &out, &errOut); code != 3 {
			t.Fatalf("json: exit %d", code)
		}
		var doc struct {
			Summary struct {
				Outcome string   `json:"outcome"`
				Reasons []string `json:"outcome_reasons"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Summary.Outcome != "inconclusive" || len(doc.Summary.Reasons) == 0 {
			t.Errorf("json summary %+v, %v", doc.Summary, err)
		}
		junit := filepath.Join(t.TempDir(), "junit.xml")
		out.Reset()
		code := run([]string{"check", "--baseline", "../../testdata/baseline/good.baseline.json", "--report",
			"junit=" + junit, pktap}, nil, &out, &errOut)
		if code != 3 && code != 1 {
			t.Fatalf("check: exit %d: %s", code, errOut.String())
		}
		x, _ := os.ReadFile(junit)
		if code == 3 && !bytes.Contains(x, []byte(`<error message="the captures cannot show`)) {
			t.Errorf("junit lacks the error:\n%s", x)
		}
	})
}

// TestUnlistedFailuresCounted runs the demo on the current table, where the proxy's 407 and the SERVFAIL are
// to names no row lists: they stay failures, in the headline, the problems and the JSON summary.
func TestUnlistedFailuresCounted(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	var out, errOut bytes.Buffer
	if code := run([]string{"analyze", "--rules", "intune-current", demo}, nil, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	for _, w := range []string{
		"FAIL: 5 failures: 3 on 2 listed requirements, 2 to unlisted Microsoft names\n",
		"  4 blocked, 1 reset, in 3 connections and 2 DNS lookups\n",
		"  blocked or reset, to unlisted Microsoft names (2)\n",
		"blocked: the proxy asked for authentication (407)",
		"blocked: the resolver answered SERVFAIL",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	run([]string{"analyze", "--format", "jsonl", "--rules", "intune-current", demo}, nil, &out, &errOut)
	if !strings.Contains(out.String(), `"unlisted_failing":2,`) || !strings.Contains(out.String(), `"outcome":"fail"`) {
		t.Errorf("summary lacks unlisted_failing 2 and outcome fail:\n%s", out.String()[strings.LastIndex(out.String(), `"failing"`):])
	}
}

// TestReportWidth keeps the demo's text report within 100 columns, and --wide on one line per record.
func TestReportWidth(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	for _, args := range [][]string{{demo}, {"--verbose", demo}, {"--rules", "intune-current", demo}} {
		var out, errOut bytes.Buffer
		run(append([]string{"analyze", "--rules", "intune-2015"}, args...), nil, &out, &errOut)
		if args[0] == "--rules" { // the current table's longest patterns are long: only the evidence must fit
			out.Truncate(strings.Index(out.String(), "\nRequirements\n"))
		}
		for i, line := range strings.Split(out.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > 100 {
				t.Errorf("%v: line %d is %d columns: %s", args, i+1, n, line)
			}
		}
	}
	var out, errOut bytes.Buffer
	run([]string{"analyze", "--wide", demo}, nil, &out, &errOut)
	if !regexpLine(out.String(), "blocked.manage.microsoft.com", "198.18.0.2", "the server side reset the connection") {
		t.Errorf("--wide does not keep a record on one line:\n%s", out.String())
	}
}

// regexpLine says whether one line of text holds every part.
func regexpLine(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestFlagErrors checks that every command answers a bad flag with a one-line error and a hint, exit 2.
func TestFlagErrors(t *testing.T) {
	tests := [][]string{
		{"analyze", "--bogus"},
		{"analyze", "--workers", "x"},
		{"live", "--duration", "30"},
		{"live", "--count", "abc"},
		{"live", "--bogus"},
		{"interfaces", "--bogus"},
		{"check", "--bogus"},
		{"baseline", "--bogus"},
		{"completion", "tcsh"},
		{"completion"},
		{"man", "extra"},
		{"version", "extra"},
		{"annotate", "--bogus"},
		{"probe", "--bogus"},
		{"rules", "list", "--bogus"},
		{"rules", "match", "--bogus"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(args, nil, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			name := args[0]
			if name == "rules" {
				name += " " + args[1]
			}
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "intunecap "+name+": ") ||
				lines[1] != "Run 'intunecap "+name+" -h' for usage." {
				t.Errorf("stderr is not an error and a hint:\n%s", errOut.String())
			}
			if out.Len() > 0 {
				t.Errorf("stdout: %s", out.String())
			}
		})
	}
}

// TestHelp checks that help asked for goes to standard output within 80 columns, for every command and
// subcommand, whether asked with -h or with help COMMAND.
func TestHelp(t *testing.T) {
	cases := [][]string{{"-h"}, {"help"}, {"--help"}}
	for _, c := range commands() {
		cases = append(cases, []string{c.name, "-h"}, []string{"help", c.name})
	}
	for _, sub := range helpSubcommands(commandHelp("rules")) {
		cases = append(cases, []string{"rules", sub, "-h"}, []string{"help", "rules", sub})
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(args, nil, &out, &errOut); code != 0 {
				t.Errorf("exit %d", code)
			}
			if out.Len() == 0 || errOut.Len() > 0 {
				t.Errorf("help not on stdout alone: stdout %d bytes, stderr %q", out.Len(), errOut.String())
			}
			for _, line := range strings.Split(out.String(), "\n") {
				if n := utf8.RuneCountInString(line); n > helpWidth {
					t.Errorf("%d columns: %s", n, line)
				}
			}
		})
	}
	var out, errOut bytes.Buffer
	run([]string{"help", "analyze"}, nil, &out, &errOut)
	if !strings.HasPrefix(out.String(), "usage: intunecap analyze") {
		t.Errorf("help analyze prints %q", out.String()[:min(60, out.Len())])
	}
}

func TestDidYouMean(t *testing.T) {
	for word, want := range map[string]string{"anaylze": `(did you mean "analyze"?)`, "chek": `(did you mean "check"?)`,
		"baseline2": `(did you mean "baseline"?)`, "xyzzy": "unknown command \"xyzzy\"\n"} {
		var out, errOut bytes.Buffer
		if code := run([]string{word}, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", word, code, errOut.String(), want)
		}
	}
}

// TestCompletion loads the bash script in bash, and checks the others where their shell is installed.
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	scripts := map[string]string{}
	for _, sh := range completionShells {
		var out, errOut bytes.Buffer
		if code := run([]string{"completion", sh}, nil, &out, &errOut); code != 0 || out.Len() == 0 {
			t.Fatalf("%s: exit %d: %s", sh, code, errOut.String())
		}
		scripts[sh] = write(t, dir, "intunecap."+sh, out.Bytes())
	}
	if b := readFile(t, scripts["bash"]); !strings.Contains(b, `analyze/*) words="--help -h --allow-empty`) ||
		!strings.Contains(b, " --wide ") || !strings.Contains(b, " --trust ") {
		t.Errorf("bash script lacks analyze's flags:\n%s", readFile(t, scripts["bash"]))
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash not found")
	}
	// Load it as a user would (source <(intunecap completion bash)), then complete "intunecap rules m".
	probe := `source <(cat "$1") && complete -p intunecap && COMP_WORDS=(intunecap rules m) COMP_CWORD=2 && _intunecap && echo "${COMPREPLY[*]}"` +
		` && COMP_WORDS=(intunecap analyze --wid) COMP_CWORD=2 && _intunecap && echo "${COMPREPLY[*]}"`
	out, err := exec.Command(bash, "-c", probe, "bash", scripts["bash"]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "complete -o default -F _intunecap intunecap\nmatch\n--wide\n") {
		t.Errorf("bash: %v\n%s", err, out)
	}
	for sh, check := range map[string][]string{"zsh": {"-n"}, "fish": {"--no-execute"}} {
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed: its script is not checked", sh)
			continue
		}
		if out, err := exec.Command(path, append(check, scripts[sh])...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", sh, err, out)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestManPage formats the manual page with groff, which warns (-ww) about any roff mistake.
func TestManPage(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("groff not installed (scripts/deps.sh installs groff-base)")
		}
		t.Skip("groff not installed (scripts/deps.sh installs groff-base)")
	}
	var page, errOut bytes.Buffer
	if code := run([]string{"man"}, nil, &page, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww")
	cmd.Stdin = &page
	var out, warn bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &warn
	if err := cmd.Run(); err != nil || warn.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, warn.String())
	}
	text := regexp.MustCompile("(\x1b\\[[0-9;]*m)|(.\x08)").ReplaceAllString(out.String(), "") // bold and underline
	for _, w := range []string{"INTUNECAP(1)", "intunecap analyze", "intunecap rules match", "EXIT STATUS", "inconclusive"} {
		if !strings.Contains(text, w) {
			t.Errorf("man page lacks %q", w)
		}
	}
}

func TestVersionOf(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(info), "intunecap v1.2.3 (revision 0123456789ab, +dirty) go1.26.8"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	info.Settings, info.Main.Version = nil, ""
	if got, want := versionOf(info), "intunecap (devel) go1.26.8"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestOutputNeverAnInput checks that no command writes over one of its inputs, by name or by inode, and that
// the input is intact afterwards.
func TestOutputNeverAnInput(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, filepath.Join(pcapsDir, "tls-allowed.pcap"))
	capture := write(t, dir, "capture.pcap", []byte(src))
	link := filepath.Join(dir, "link.pcap")
	if err := os.Link(capture, link); err != nil {
		t.Fatal(err)
	}
	baseline := "../../testdata/baseline/good.baseline.json"
	tests := [][]string{
		{"analyze", "-o", capture, capture},
		{"analyze", "-o", link, capture},
		{"analyze", "-o", filepath.Join(dir, ".", "capture.pcap"), capture},
		{"analyze", "-o", dir, dir},
		{"baseline", "-o", capture, capture},
		{"check", "--baseline", baseline, "--report", "junit=" + capture, capture},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(args, nil, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), "is also an input") || strings.Count(errOut.String(), "\n") != 1 {
				t.Errorf("stderr %q", errOut.String())
			}
			if readFile(t, capture) != src {
				t.Fatal("the input capture was changed")
			}
		})
	}
}

// TestFailedRunKeepsReport checks that a run that fails leaves an existing report as it was and no temporary
// file behind, and that a good run replaces it whole.
func TestFailedRunKeepsReport(t *testing.T) {
	dir := t.TempDir()
	raw := readFile(t, filepath.Join(pcapsDir, "tls-allowed.pcap"))
	headerOnly := write(t, dir, "header.pcap", []byte(raw[:24+16+10]))
	report := write(t, dir, "report.txt", []byte("the old report\n"))
	var out, errOut bytes.Buffer
	if code := run([]string{"analyze", "-o", report, headerOnly}, nil, &out, &errOut); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if got := readFile(t, report); got != "the old report\n" {
		t.Errorf("report changed to %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("files left behind: %v", entries)
	}
	if code := run([]string{"analyze", "-o", report, filepath.Join(pcapsDir, "tls-allowed.pcap")}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := readFile(t, report); !strings.HasPrefix(got, "PASS: ") {
		t.Errorf("report not replaced: %q", got)
	}
	errOut.Reset()
	if code := run([]string{"analyze", "-o", "/dev/full", filepath.Join(pcapsDir, "tls-allowed.pcap")}, nil, &out, &errOut); code != 2 ||
		strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), "no space left on device") {
		t.Errorf("full disk: exit %d, stderr %q; want 2 and one line", code, errOut.String())
	}
}

// TestAnalyzeDirectory reads a directory's captures, sorted, as one capture.
func TestAnalyzeDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.pcap", "a.pcapng"} {
		src := map[string]string{"b.pcap": "tls-allowed.pcap", "a.pcapng": "pcapng.pcapng"}[name]
		write(t, dir, name, []byte(readFile(t, filepath.Join(pcapsDir, src))))
	}
	write(t, dir, "notes.txt", []byte("not a capture"))
	var out, errOut bytes.Buffer
	if code := run([]string{"analyze", "--format", "json", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `"files": [
        "` + filepath.Join(dir, "a.pcapng") + `",
        "` + filepath.Join(dir, "b.pcap") + `"
      ]`
	if !strings.Contains(out.String(), want) {
		t.Errorf("files not read in order:\n%s", out.String())
	}
	errOut.Reset()
	empty := t.TempDir()
	if code := run([]string{"analyze", empty}, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "is a directory with no capture file") {
		t.Errorf("empty directory: exit %d, %q", code, errOut.String())
	}
}
