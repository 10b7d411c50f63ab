package analyze_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze"
)

// recordedDir holds the captures recorded with tools/netlab and scenarios.tsv, the oracle written from what
// each scenario did (not from intunecap's output).
const recordedDir = "../testdata/pcaps"

// oracleRow is one line of scenarios.tsv: a connection or DNS exchange that must be reported. "*" matches
// anything; "-" means empty.
type oracleRow []string

// fields of a record in scenarios.tsv's column order (after the file column).
func oracleFields(r *analyze.Record) []string {
	state := r.State
	if r.Type == "dns" && r.Rcode != "" {
		state = r.Rcode
	}
	source := r.NameSource
	if r.Type == "dns" {
		source = ""
	}
	return []string{r.Type, r.Proto, r.Name, source, fmt.Sprint(r.Port), state, string(r.Verdict), r.Stage}
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
	h, rows := readTSV(t, filepath.Join(recordedDir, "scenarios.tsv"))
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
	for _, file := range files {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", file, workers), func(t *testing.T) {
				c := analyzeWith(t, workers, filepath.Join(recordedDir, file))
				left := slices.Clone(byFile[file])
				for _, r := range c.records {
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
			})
		}
	}
}
