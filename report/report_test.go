package report

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run feeds records and (unless nil) a summary through a writer of the format and returns what it wrote.
func run(t testing.TB, format string, opts Options, recs []result.Record, sum *result.Summary) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Record(&recs[i]); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if sum != nil {
		if err := w.Summary(sum); err != nil {
			t.Fatalf("summary: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	wide := []rules.Verdict{rules.Blocked, rules.Reset, rules.PortNotAllowed, rules.Unlisted}
	tests := []struct {
		golden string
		format string
		opts   Options
		recs   []result.Record
		sum    *result.Summary
	}{
		{"text.golden", "text", Options{}, fixtureRecords(), fixtureSummary()},
		{"text-verbose.golden", "text", Options{Verbose: true}, fixtureRecords(), fixtureSummary()},
		{"text-wide.golden", "text", Options{Wide: true, Verbose: true}, fixtureRecords(), fixtureSummary()},
		{"text-color.golden", "text", Options{Color: true, Verbose: true}, fixtureRecords(), fixtureSummary()},
		{"text-failon-wide.golden", "text", Options{FailOn: wide}, fixtureRecords(), fixtureSummary()},
		{"text-failon-none.golden", "text", Options{FailOn: []rules.Verdict{}}, fixtureRecords(), fixtureSummary()},
		{"text-pass.golden", "text", Options{}, passRecords(), passSummary()},
		{"text-empty.golden", "text", Options{}, nil, &result.Summary{}},
		{"text-nosummary.golden", "text", Options{}, fixtureRecords()[:3], nil},
		{"jsonl.golden", "jsonl", Options{}, fixtureRecords(), fixtureSummary()},
		{"json.golden", "json", Options{}, fixtureRecords(), fixtureSummary()},
		{"json-empty.golden", "json", Options{}, nil, &result.Summary{}},
		{"json-nosummary.golden", "json", Options{}, passRecords(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got := run(t, tt.format, tt.opts, tt.recs, tt.sum)
			checkGolden(t, tt.golden, got)
			again := run(t, tt.format, tt.opts, tt.recs, tt.sum)
			if !bytes.Equal(got, again) {
				t.Error("two runs over the same input differ")
			}
		})
	}
}

// checkGolden compares got with testdata/name, or rewrites the file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s", path, got)
	}
}

func TestNew(t *testing.T) {
	for _, f := range Formats() {
		if _, err := New(f, &bytes.Buffer{}, Options{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
	tests := []struct {
		format string
		w      io.Writer
		want   string
	}{
		{"xml", &bytes.Buffer{}, `new report: unknown format "xml" (want text, jsonl, json or html)`},
		{"", &bytes.Buffer{}, `new report: unknown format "" (want text, jsonl, json or html)`},
		{"text", nil, "new report: nil writer"},
	}
	for _, tt := range tests {
		if _, err := New(tt.format, tt.w, Options{}); err == nil || err.Error() != tt.want {
			t.Errorf("New(%q) error = %v, want %q", tt.format, err, tt.want)
		}
	}
}

// TestLifecycle checks that each writer refuses calls out of order instead of writing a broken report.
func TestLifecycle(t *testing.T) {
	rec := passRecords()[0]
	for _, f := range Formats() {
		t.Run(f, func(t *testing.T) {
			w, _ := New(f, &bytes.Buffer{}, Options{})
			steps := []struct {
				name string
				call func() error
				want error
			}{
				{"record", func() error { return w.Record(&rec) }, nil},
				{"summary", func() error { return w.Summary(passSummary()) }, nil},
				{"record after summary", func() error { return w.Record(&rec) }, ErrAfterSummary},
				{"second summary", func() error { return w.Summary(passSummary()) }, ErrSummaryTwice},
				{"close", w.Close, nil},
				{"close again", w.Close, nil},
				{"record after close", func() error { return w.Record(&rec) }, ErrClosed},
				{"summary after close", func() error { return w.Summary(passSummary()) }, ErrClosed},
			}
			for _, s := range steps {
				if err := s.call(); !errors.Is(err, s.want) {
					t.Errorf("%s: error %v, want %v", s.name, err, s.want)
				}
			}
		})
	}
}

// failWriter fails every write, like a closed pipe.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteErrors(t *testing.T) {
	rec := passRecords()[0]
	for _, f := range Formats() {
		t.Run(f, func(t *testing.T) {
			w, _ := New(f, failWriter{}, Options{})
			w.Record(&rec)
			w.Summary(passSummary())
			err := w.Close()
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte("broken pipe")) {
				t.Fatalf("close error = %v, want the write error", err)
			}
			if again := w.Record(&rec); again == nil {
				t.Error("record after a failed write succeeded")
			}
		})
	}
}
