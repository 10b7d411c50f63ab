package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/pcaps")

// pcapsDir holds the captures recorded with tools/netlab and their golden reports.
const pcapsDir = "../../testdata/pcaps"

// recordedCaptures lists the bundled captures.
func recordedCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, err := filepath.Glob(filepath.Join(pcapsDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no captures in %s", pcapsDir)
	}
	return files
}

// TestGoldenReports runs `intunecap analyze --format jsonl` on every bundled capture and compares the output
// with its golden file, byte for byte. Run with -update to rewrite them after a deliberate change, then review
// the diff.
func TestGoldenReports(t *testing.T) {
	for _, file := range recordedCaptures(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{"analyze", "--format", "jsonl", "--fail-on", "none", file}, nil, &out, &errOut)
			if code != 0 && code != 3 { // 3: inconclusive, for captures with no Intune traffic in them
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			golden := strings.TrimSuffix(file, ".gz") + ".golden.jsonl"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/intunecap -run TestGoldenReports -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", golden, lineDiff(string(want), out.String()))
			}
		})
	}
}

// TestDeterministic checks that two runs over the same capture give the same bytes in every format.
func TestDeterministic(t *testing.T) {
	files := recordedCaptures(t)
	for _, format := range []string{"text", "jsonl", "json"} {
		args := append([]string{"analyze", "--format", format, "--fail-on", "none"}, files...)
		var a, b, errOut bytes.Buffer
		if code := run(args, nil, &a, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut.String())
		}
		run(args, nil, &b, &errOut)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two runs differ", format)
		}
	}
}

// lineDiff shows the first lines where two outputs differ.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 5; i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g + "\n")
			shown++
		}
	}
	return b.String()
}
