package analyze_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
	"github.com/intunecap/intunecap/result"
)

// recordedDir holds the captures recorded with tools/netlab and scenarios.tsv, the oracle written from what
// each scenario did (not from intunecap's output).
const recordedDir = "../testdata/pcaps"

// oracleRow is one line of scenarios.tsv: a connection or DNS exchange that must be reported. "*" matches
// anything; "-" means empty.
type oracleRow []string

// fields of a record in scenarios.tsv's column order (after the file column).
func oracleFields(r *result.Record) []string {
	state := string(r.State)
	if r.Type == "dns" && r.Rcode != "" {
		state = r.Rcode
	}
	source := string(r.NameSource)
	if r.Type == "dns" {
		source = ""
	}
	return []string{r.Type, r.Proto, r.Name, source, fmt.Sprint(r.Port), state, string(r.Verdict), string(r.Stage)}
}

func (row oracleRow) matches(f []string) bool {
	for i, want := range row {
		if want == "-" {
			want = ""
		}
		if want != "*" && want != f[i] {
			return false
		}
	}
	return true
}

// TestRecordedScenarios checks every bundled capture against the oracle: each record matches one row, and
// every row is matched, with 1 and 2 workers.
func TestRecordedScenarios(t *testing.T) {
	checkScenarios(t, recordedDir, []int{1, 2})
}

// TestFreshRecordings records every scenario anew with tools/netlab (real clients and servers in network
// namespaces) and checks the new captures against the same oracle: captures intunecap has never seen. It
// needs root; in CI (CI=true) it must run.
func TestFreshRecordings(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: recording takes about 80 s")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("recording the lab's scenarios needs root (CI runs as root)")
		}
		t.Skip("recording the lab's scenarios needs root and network namespaces")
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", "../tools/netlab/record.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("record.sh: %v\n%s", err, out)
	}
	checkScenarios(t, dir, []int{1})
}

// checkScenarios compares the captures in dir with scenarios.tsv.
func checkScenarios(t *testing.T, dir string, workerCounts []int) {
	h, rows := pcaptest.ReadTSV(t, filepath.Join(recordedDir, "scenarios.tsv"))
	if !slices.Equal(h, []string{"file", "type", "proto", "name", "name_source", "port", "state", "verdict", "stage"}) {
		t.Fatalf("scenarios.tsv header %q", h)
	}
	byFile := map[string][]oracleRow{}
	var files []string
	for _, r := range rows {
		if _, ok := byFile[r[0]]; !ok {
			files = append(files, r[0])
		}
		byFile[r[0]] = append(byFile[r[0]], oracleRow(r[1:]))
	}
	proxies := proxyOracle(t)
	for _, file := range files {
		for _, workers := range workerCounts {
			t.Run(fmt.Sprintf("%s/workers=%d", file, workers), func(t *testing.T) {
				c := analyzeWith(t, workers, filepath.Join(dir, file))
				compareWithOracle(t, c.records, byFile[file])
				checkProxies(t, c.summary, proxies[file])
			})
		}
	}
}

// compareWithOracle matches each record to one row; rows left over were not reported.
func compareWithOracle(t *testing.T, records []result.Record, rows []oracleRow) {
	left := slices.Clone(rows)
	for _, r := range records {
		f := oracleFields(&r)
		i := slices.IndexFunc(left, func(row oracleRow) bool { return row.matches(f) })
		if i < 0 {
			t.Errorf("record not in the oracle: %s (history %s, frame %d)", strings.Join(f, " "), r.History, r.FirstFrame)
			continue
		}
		left = slices.Delete(left, i, i+1)
	}
	for _, row := range left {
		t.Errorf("oracle row not reported: %s", strings.Join(row, " "))
	}
}
