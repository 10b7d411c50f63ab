package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/intunecap/intunecap/result"
)

// jsonString is what a string becomes after a JSON round trip: each invalid byte turns into U+FFFD.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// jsonRecord is r as it reads back from JSON: the record writer escapes bytes that are not UTF-8 reversibly
// (\xNN) instead of turning them into U+FFFD.
func jsonRecord(r result.Record) result.Record {
	r.Name, r.Reason = recordString(r.Name), recordString(r.Reason)
	return r
}

func recordString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return escapeInvalidUTF8(s)
}

func TestJSONLRoundTrip(t *testing.T) {
	recs := fixtureRecords()
	out := run(t, "jsonl", Options{}, recs, fixtureSummary())
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var lines [][]byte
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if len(lines) != len(recs)+1 {
		t.Fatalf("%d lines, want %d records and a summary", len(lines), len(recs))
	}
	for i, line := range lines[:len(recs)] {
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var got result.Record
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if want := jsonRecord(recs[i]); !reflect.DeepEqual(got, want) {
			t.Errorf("line %d reads back as\n%+v\nwant\n%+v", i+1, got, want)
		}
	}
	var sum result.Summary
	if err := json.Unmarshal(lines[len(recs)], &sum); err != nil {
		t.Fatal(err)
	}
	want := fixtureSummary()
	want.Unlisted[1].Name = jsonString(want.Unlisted[1].Name)
	want.Capture.Warnings[1] = jsonString(want.Capture.Warnings[1])
	if !reflect.DeepEqual(&sum, want) {
		t.Errorf("summary reads back as\n%+v\nwant\n%+v", sum, *want)
	}
}

// TestJSONDocument checks the streamed document against encoding/json's own rendering of the whole thing.
func TestJSONDocument(t *testing.T) {
	tests := []struct {
		name string
		recs []result.Record
		sum  *result.Summary
	}{
		{"fixture", fixtureRecords(), fixtureSummary()},
		{"one record", passRecords(), passSummary()},
		{"no records", nil, passSummary()},
		{"no summary", passRecords(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, "json", Options{}, tt.recs, tt.sum)
			doc := struct {
				Records []result.Record `json:"records"`
				Summary *result.Summary `json:"summary"`
			}{Records: append([]result.Record{}, tt.recs...)}
			if tt.sum != nil {
				agg := newDeviceAgg(defaultFailOn())
				for i := range tt.recs {
					agg.add(&tt.recs[i])
				}
				s := normalizeSummary(agg.fill(tt.sum))
				doc.Summary = &s
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(doc); err != nil {
				t.Fatal(err)
			}
			safe := appendSafeJSON(nil, want.Bytes())
			if !bytes.Equal(got, safe) {
				t.Errorf("streamed document differs from encoding/json's:\n%s\nwant:\n%s", got, safe)
			}
		})
	}
}

func TestAppendSafeJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"name":"plain.example"}`, `{"name":"plain.example"}`},
		{`"exactly8"`, `"exactly8"`},
		{"\"seven..\x7f after a plain word\"", `"seven..\u007f after a plain word"`},
		{"\"0123456\x7f\"", `"0123456\u007f"`},
		{"\"01234567é\u202e89abcdef\"", `"01234567é\u202e89abcdef"`},
		{"\"~~~~~~~~~~~~~~~~\x7f\"", `"~~~~~~~~~~~~~~~~\u007f"`},
		{`"café ☕"`, `"café ☕"`},
		{"\"del\x7f\"", `"del\u007f"`},
		{"\"\u202egpj.exe\"", `"\u202egpj.exe"`},
		{"\"c1\u009b31m\"", `"c1\u009b31m"`},
		{"\"zero\u200bwidth\"", `"zero\u200bwidth"`},
		{"\"tag\U000e0041\"", `"tag\udb40\udc41"`},
		{"\"bad\xff\"", `"bad\ufffd"`},
	}
	for _, tt := range tests {
		got := string(appendSafeJSON(nil, []byte(tt.in)))
		if got != tt.want {
			t.Errorf("appendSafeJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
		var a, b string
		if json.Unmarshal([]byte(tt.in), &a) == nil {
			if err := json.Unmarshal([]byte(got), &b); err != nil || jsonString(a) != b {
				t.Errorf("%q decodes to %q, want %q (%v)", got, b, a, err)
			}
		}
	}
}

// TestAppendSafeJSONMatchesByteLoop compares the word-at-a-time scan with the plain byte loop it replaced, on
// random mixes of ASCII, DEL, multi-byte and invalid UTF-8 at every alignment.
func TestAppendSafeJSONMatchesByteLoop(t *testing.T) {
	byteLoop := func(dst, src []byte) []byte {
		for i := 0; i < len(src); {
			if c := src[i]; c < 0x7f {
				dst = append(dst, c)
				i++
				continue
			}
			r, size := utf8.DecodeRune(src[i:])
			if src[i] != 0x7f && r != utf8.RuneError && strconv.IsPrint(r) {
				dst = append(dst, src[i:i+size]...)
			} else {
				dst = appendRuneEscape(dst, r)
			}
			i += size
		}
		return dst
	}
	pieces := []string{"a", "plain.example.com", "\x7f", "é", "☕", "\u202e", "\u200b", "\xff", "\xe2\x80", "\U000e0041", "~"}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		var b []byte
		for n := rng.IntN(12); n > 0; n-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		if got, want := appendSafeJSON(nil, b), byteLoop(nil, b); !bytes.Equal(got, want) {
			t.Fatalf("appendSafeJSON(%q) = %q, byte loop %q", b, got, want)
		}
	}
}
