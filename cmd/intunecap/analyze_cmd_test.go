package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnalyzeExitStatus checks the exit status and the one-line error of analyze for good, failing and bad input.
func TestAnalyzeExitStatus(t *testing.T) {
	demo := filepath.Join(pcapsDir, "demo.pcapng")
	good := filepath.Join(pcapsDir, "tls-allowed.pcap")
	raw, err := os.ReadFile(filepath.Join(pcapsDir, "tls-allowed.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	garbage := write(t, dir, "garbage.pcap", []byte("GET / HTTP/1.1\r\n\r\n"))
	empty := write(t, dir, "empty.pcap", nil)
	truncated := write(t, dir, "truncated.pcap", raw[:len(raw)-10])
	headerOnly := write(t, dir, "header.pcap", raw[:24+16+10])
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string // a line it must contain
		nostdout bool
	}{
		{"a capture with failures", []string{demo}, 1, "", false},
		{"failures not counted", []string{"--fail-on", "none", demo}, 0, "", false},
		{"unlisted counted", []string{"--fail-on", "unlisted", filepath.Join(pcapsDir, "unlisted.pcap")}, 1, "", false},
		{"nothing failing", []string{good}, 0, "", false},
		{"garbage", []string{garbage}, 2, "intunecap analyze: " + garbage + ": not a pcap or pcapng file (magic 47 45 54 20)", true},
		{"empty file", []string{empty}, 2, "intunecap analyze: " + empty + ": not a pcap or pcapng file (empty)", true},
		{"missing file", []string{filepath.Join(dir, "nope.pcap")}, 2, "no such file or directory", true},
		{"bad file in a set is skipped", []string{good, garbage}, 0, "warning: " + garbage + ": not a pcap or pcapng file", false},
		{"truncated last packet", []string{truncated}, 0, "intunecap analyze: warning: " + truncated + ": frame ", false},
		{"nothing readable", []string{headerOnly}, 2, "no packet could be read", true},
		{"unknown verdict", []string{"--fail-on", "bogus", good}, 2, `--fail-on: unknown verdict "bogus"`, true},
		{"unknown format", []string{"--format", "xml", good}, 2, "xml", true},
		{"no file", nil, 2, "no capture file given", true},
		{"bad workers", []string{"--workers", "0", good}, 2, "--workers", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"analyze"}, tt.args...), nil, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errOut.String(), tt.stderr)
			}
			if tt.nostdout && out.Len() > 0 {
				t.Errorf("wrote a report although the input was unusable:\n%s", out.String())
			}
			if strings.Contains(errOut.String(), "panic") || strings.Count(strings.TrimSpace(errOut.String()), "\n") > 3 {
				t.Errorf("stderr is not a few clear lines: %s", errOut.String())
			}
		})
	}
}

// TestAnalyzeStdinAndOutputFile reads a capture from standard input and writes the report to -o.
func TestAnalyzeStdinAndOutputFile(t *testing.T) {
	f, err := os.Open(filepath.Join(pcapsDir, "tls-allowed.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	out := filepath.Join(t.TempDir(), "report.jsonl")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--format", "jsonl", "-o", out, "-"}, f, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"name":"enrollment.manage.microsoft.com","name_source":"sni"`)) || stdout.Len() != 0 {
		t.Errorf("report in %s:\n%s\nstdout: %q", out, b, stdout.String())
	}
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAnalyzeProfiles writes the CPU and heap profiles that performance reports ask for, and fails with
// status 2 when the heap profile cannot be written.
func TestAnalyzeProfiles(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(pcapsDir, "tls-allowed.pcap")
	cpu, heap := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "heap.prof")
	var stdout, stderr bytes.Buffer
	args := []string{"analyze", "-q", "--cpuprofile", cpu, "--memprofile", heap, capture}
	if code := run(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, p := range []string{cpu, heap} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v, %v", p, st, err)
		}
	}
	stderr.Reset()
	args = []string{"analyze", "-q", "--memprofile", filepath.Join(dir, "missing", "heap.prof"), capture}
	if code := run(args, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "heap profile") {
		t.Errorf("exit %d, stderr %q; want 2 and a heap profile error", code, stderr.String())
	}
}
