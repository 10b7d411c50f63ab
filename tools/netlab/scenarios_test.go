// Package netlab holds the lab that records testdata/pcaps; its test keeps the recorded captures and
// their oracle (testdata/pcaps/scenarios.tsv) consistent with each other, so a lab change that drops a
// capture or a malformed oracle row fails here, before the analyzer's golden tests read them.
package netlab

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const pcapDir = "../../testdata/pcaps"

var allowed = map[int][]string{
	1: {"flow", "dns"},
	2: {"tcp", "udp"},
	4: {"sni", "http-host", "connect", "socks", "dns", "-"},
	6: {"established", "refused", "reset", "unanswered", "aborted", "partial", "answered", "version-negotiation", "rejected",
		"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "*"},
	7: {"allowed", "blocked", "reset", "intercepted", "port-not-allowed", "unlisted", "other"},
	8: {"after-syn", "after-client-hello", "after-connect", "after-socks", "after-request", "after-data", "after-query", "-", "*"},
}

func TestScenariosOracle(t *testing.T) {
	f, err := os.Open(filepath.Join(pcapDir, "scenarios.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if n == 1 {
			if sc.Text() != "file\ttype\tproto\tname\tname_source\tport\tstate\tverdict\tstage" {
				t.Fatalf("header = %q", sc.Text())
			}
			continue
		}
		if len(cols) != 9 {
			t.Fatalf("line %d: %d columns, want 9", n, len(cols))
		}
		for i, vals := range allowed {
			if !slices.Contains(vals, cols[i]) {
				t.Errorf("line %d: column %d = %q, want one of %v", n, i+1, cols[i], vals)
			}
		}
		if cols[1] == "dns" && (cols[4] != "-" || cols[5] != "53") {
			t.Errorf("line %d: dns rows have name_source - and port 53", n)
		}
		failed := cols[7] == "reset" || cols[7] == "blocked"
		if failed != strings.HasPrefix(cols[8], "after-") && cols[8] != "*" {
			t.Errorf("line %d: a stage goes with verdicts reset and blocked, and only with them", n)
		}
		if cols[1] == "flow" && (cols[3] == "-") != (cols[4] == "-") {
			t.Errorf("line %d: a flow's name and name_source are both - or both set", n)
		}
		rows[cols[0]]++
	}
	var captures []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(pcapDir, pat))
		captures = append(captures, m...)
	}
	if len(captures) == 0 {
		t.Fatal("no captures")
	}
	readme, err := os.ReadFile(filepath.Join(pcapDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range captures {
		name := filepath.Base(c)
		if rows[name] == 0 {
			t.Errorf("%s has no rows in scenarios.tsv", name)
		}
		delete(rows, name)
		if !bytes.Contains(readme, []byte("`"+name+"`")) {
			t.Errorf("README.md does not describe %s", name)
		}
		total += checkCapture(t, c)
	}
	for name := range rows {
		t.Errorf("scenarios.tsv names %s, which is not in %s", name, pcapDir)
	}
	if total > 3<<20 {
		t.Errorf("captures total %d bytes, want < 3 MB", total)
	}
}

// checkCapture checks the size budget and that the format matches the extension.
func checkCapture(t *testing.T, path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 200<<10 {
		t.Errorf("%s: %d bytes, want < 200 KB", path, len(b))
	}
	isNG := len(b) >= 4 && bytes.Equal(b[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a})
	if isNG != strings.HasSuffix(path, ".pcapng") {
		t.Errorf("%s: pcapng magic %v does not match its extension", path, isNG)
	}
	return int64(len(b))
}
