package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrustFlag checks --trust on every command that analyzes: a file that is not PEM certificates is a
// one-line usage error (exit 2) naming the flag; without --trust the inspected capture fails as intercepted.
func TestTrustFlag(t *testing.T) {
	capture := filepath.Join(pcapsDir, "tls-inspect.pcap")
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	expect := filepath.Join(pcapsDir, "tls-inspect.pcap.expect.yaml")
	for _, cmd := range [][]string{{"analyze", "-q"}, {"check", "--expect", expect}, {"baseline"}} {
		for _, file := range []string{bad, missing} {
			args := append(append([]string{}, cmd...), "--trust", file, capture)
			code, _, errOut := runTool(args...)
			if code != 2 || !strings.Contains(errOut, "--trust: ") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("%v: exit %d, stderr %q; want 2 and one line about --trust", args, code, errOut)
			}
		}
	}
	code, out, _ := runTool("analyze", "-q", "--format", "jsonl", capture)
	if code != 1 || strings.Count(out, `"verdict":"intercepted"`) != 2 || !strings.Contains(out, `"cert_issuer":"Contoso SSL Inspection CA"`) {
		t.Errorf("analyze: exit %d, want 1 with 2 intercepted records:\n%s", code, out)
	}
}
