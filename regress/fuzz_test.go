package regress

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the expectations parser, seeded with every bundled expectations file and
// the examples of the tests: it must return an expectation set or an error, never panic, and what it accepts
// must resolve and evaluate without panicking too.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/pcaps/*.expect.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(fullExample))
	f.Add([]byte("a: &x [*x]\nnames: *x\n"))
	f.Add([]byte("requirements: [{pattern: \"*.b\\u00fccher.example\", status: [ok, any]}]\n"))
	tb := table2015(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		if e.Resolve(tb) == nil {
			Evaluate(e, NewCollector(e.TrackedNames()))
		}
	})
}

// FuzzDecodeBaseline feeds arbitrary bytes to the baseline reader; what it accepts must compare cleanly.
func FuzzDecodeBaseline(f *testing.F) {
	f.Add([]byte(`{"format":"intunecap-baseline","version":1,"rules":["intune-2015"],"captures":[],` +
		`"requirements":[{"key":"intune-2015:1","status":"ok"}],"verdicts":{"allowed":1},` +
		`"failing_names":[{"name":"a","verdicts":{"reset":1}}],"unlisted_names":[]}`))
	f.Add([]byte(`{"format":"intunecap-baseline","version":1,"requirements":null,"failing_names":[{"name":""}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBaseline(data)
		if err != nil {
			return
		}
		c := NewCollector(nil)
		Compare(b, b, c)
		Compare(b, &Baseline{}, c)
		Compare(&Baseline{}, b, c)
	})
}
