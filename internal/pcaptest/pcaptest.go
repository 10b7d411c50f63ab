// Package pcaptest holds helpers for tests that check intunecap against the shared public captures: finding
// the captures folder, reading tshark's expected/ extractions, and pulling TCP and UDP payloads out of a
// capture. It is used only by tests; being internal, it can be imported only from inside this module.
package pcaptest

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SharedDir returns the folder of public captures named by INTUNECAP_SHARED_PCAPS. It skips the test, saying
// why, when the variable is unset, except under CI=true, where it fails: CI sets it, and a missing setting
// must not turn into a silent pass. It fails when the variable names no readable folder. A relative value is
// taken relative to the module root.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("INTUNECAP_SHARED_PCAPS")
	if dir == "" {
		const why = "INTUNECAP_SHARED_PCAPS is not set (point it at the shared public captures, e.g. /work/shared/pcaps)"
		if os.Getenv("CI") == "true" {
			t.Fatal(why + ": CI=true requires them")
		}
		t.Skip(why + ": skipping the checks against the shared public captures")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(t), dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("INTUNECAP_SHARED_PCAPS=%s: not a readable folder (%v)", dir, err)
	}
	return dir
}

// Captures lists the capture files (*.pcap*) of dir in lexical order, failing the test when there is none.
func Captures(t testing.TB, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	return files
}

// moduleRoot is the nearest folder above the working directory that holds go.mod (the working directory
// itself when there is none).
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// ReadTSV reads a tab-separated file whose first line is a header (one of tshark's expected/ extractions,
// MANIFEST.tsv): it returns the header's fields and every later line's. A file that cannot be read, or a line
// longer than 4 MiB, fails the test.
func ReadTSV(t testing.TB, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = cols
			continue
		}
		rows = append(rows, cols)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return header, rows
}

// TSVRows reads one of tshark's expected/<capture>.<kind>.tsv files into one map per row, keyed by the names
// of the header row. Fields beyond the header are dropped; a row with fewer fields lacks the later keys.
func TSVRows(t testing.TB, path string) []map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, l := range lines[1:] {
		row := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			if i < len(head) {
				row[head[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// SplitList splits a field tshark prints as a comma-separated list; an empty field is an empty list.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
