package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// FuzzTextWriter puts hostile strings in every field a packet can fill and checks that the text report stays
// terminal-safe and the JSON writers stay valid JSON.
func FuzzTextWriter(f *testing.F) {
	f.Add(hostileSNI, hostileName, "\x1b[2J", "evil\u202e")
	f.Add("a.manage.microsoft.com", "", "", "")
	f.Fuzz(func(t *testing.T, name, reason, cname, warning string) {
		r := result.Record{Type: "dns", Name: name, Reason: reason, CNAMEs: []string{cname}, DNSChain: []string{name, cname},
			Warning: warning, QType: cname, Rcode: warning, Rule: reason, RuleKey: "t:1", Verdict: rules.Blocked,
			Server: name, ViaProxy: true}
		sum := &result.Summary{
			Rules:    []result.RuleSummary{{Key: "t:1", Pattern: name, Purpose: reason, Ports: cname, Status: warning}},
			Unlisted: []result.NameCount{{Name: name, Count: 1}},
			Capture:  result.CaptureFacts{Files: []string{reason}, Warnings: []string{warning}, LinkTypes: []string{cname}},
		}
		u := r
		u.Verdict, u.RuleKey, u.Reason, u.Type, u.State, u.ProxyStatus = rules.Unlisted, "", "", "flow", result.State(warning), 407
		checkTerminalSafe(t, run(t, "text", Options{Verbose: true, Color: true}, []result.Record{r, u}, sum))
		checkTerminalSafe(t, run(t, "text", Options{Wide: true, Verbose: true}, []result.Record{r, u}, sum))
		for _, format := range []string{"jsonl", "json"} {
			out := run(t, format, Options{}, []result.Record{r}, sum)
			docs := [][]byte{out}
			if format == "jsonl" {
				docs = bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
			}
			for _, doc := range docs {
				if !json.Valid(doc) {
					t.Fatalf("%s output is not JSON:\n%s", format, doc)
				}
			}
			for _, c := range out {
				if (c < 0x20 && c != '\n') || c == 0x7f {
					t.Fatalf("%s output holds control byte %#x", format, c)
				}
			}
		}
	})
}

// discard counts nothing and keeps nothing, so benchmarks measure the writers alone.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkRecord(b *testing.B) {
	recs := fixtureRecords()
	for _, format := range Formats() {
		b.Run(format, func(b *testing.B) {
			w, _ := New(format, discard{}, Options{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w.Record(&recs[i%len(recs)])
				i++
			}
		})
	}
}
