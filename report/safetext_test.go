package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/rules"
)

func TestSafeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"enterpriseregistration.windows.net", "enterpriseregistration.windows.net"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"with space", "with space"},
		{"münchen.example", "münchen.example"},
		{"evil\x1b[31m.example", `evil\x1b[31m.example`},
		{"bell\a tab\t nl\n cr\r nul\x00", `bell\x07 tab\x09 nl\x0a cr\x0d nul\x00`},
		{"del\x7f", `del\x7f`},
		{`back\slash`, `back\\slash`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"cut\xe2\x80", `cut\xe2\x80`},
		{"rtl\u202egpj.exe", `rtl\u202egpj.exe`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"nbsp\u00a0x", `nbsp\u00a0x`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"replacement\ufffd", "replacement\ufffd"},
		{"emoji😀", "emoji😀"},
	}
	for _, tt := range tests {
		if got := SafeText(tt.in); got != tt.want {
			t.Errorf("SafeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeText(f *testing.F) {
	for _, s := range []string{"", "login.microsoftonline.com", hostileSNI, hostileName, "\x1b]0;title\a",
		`a\b`, "\u202e\u200b\u00a0", "\xc0\x80", "\xed\xa0\x80", "\U0010ffff", "\"quoted\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := SafeText(s)
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("SafeText(%q) = %q holds control byte %#x", s, out, c)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("SafeText(%q) = %q is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if !strconv.IsPrint(r) {
				t.Fatalf("SafeText(%q) = %q holds non-printable %U", s, out, r)
			}
		}
		back, err := strconv.Unquote(`"` + strings.ReplaceAll(out, `"`, `\"`) + `"`)
		if err != nil || back != s {
			t.Fatalf("SafeText(%q) = %q does not unquote back (%q, %v)", s, out, back, err)
		}
		if isPlain(s) && out != s {
			t.Fatalf("plain %q changed to %q", s, out)
		}
	})
}

// FuzzTextWriter puts hostile strings in every field a packet can fill and checks that the text report stays
// terminal-safe and the JSON writers stay valid JSON.
func FuzzTextWriter(f *testing.F) {
	f.Add(hostileSNI, hostileName, "\x1b[2J", "evil\u202e")
	f.Add("a.manage.microsoft.com", "", "", "")
	f.Fuzz(func(t *testing.T, name, reason, cname, warning string) {
		r := analyze.Record{Type: "dns", Name: name, Reason: reason, CNAMEs: []string{cname}, DNSChain: []string{name, cname},
			Warning: warning, QType: cname, Rcode: warning, Rule: reason, RuleKey: "t:1", Verdict: rules.Blocked,
			Server: name, ViaProxy: true}
		sum := &analyze.Summary{
			Rules:    []analyze.RuleSummary{{Key: "t:1", Pattern: name, Purpose: reason, Ports: cname, Status: warning}},
			Unlisted: []analyze.NameCount{{Name: name, Count: 1}},
			Capture:  analyze.CaptureFacts{Files: []string{reason}, Warnings: []string{warning}, LinkTypes: []string{cname}},
		}
		checkTerminalSafe(t, run(t, "text", Options{Verbose: true, Color: true}, []analyze.Record{r}, sum))
		for _, format := range []string{"jsonl", "json"} {
			out := run(t, format, Options{}, []analyze.Record{r}, sum)
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

func BenchmarkSafeText(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"plain", "fef.msua06.manage.microsoft.com"},
		{"hostile", hostileSNI},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SafeText(bc.in)
			}
		})
	}
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
