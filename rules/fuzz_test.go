package rules

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/hostile"
)

// refRow is a row compiled by the reference matcher: its pattern as a regular expression, written from the
// documented semantics and independent of the matcher's keys and heads.
type refRow struct {
	rule  *Rule
	pat   pattern
	re    *regexp.Regexp
	exact bool
	lit   int
	// head and tail are the pattern's text before its first star and after its last: every name the
	// expression matches starts and ends with them, so a row whose head or tail is missing is skipped without
	// running the expression (the expression still decides every other row).
	head, tail string
}

// refRegexp spells a pattern's meaning: "*." is one or more characters and a dot, a leading "*" any
// characters, an inner "*" label exactly one non-empty label.
func refRegexp(ascii string) *regexp.Regexp {
	expr, rest := "", ascii
	switch {
	case strings.HasPrefix(ascii, "*."):
		expr, rest = `.+\.`, ascii[2:]
	case strings.HasPrefix(ascii, "*"):
		expr, rest = `.*`, ascii[1:]
	}
	labels := strings.Split(rest, ".")
	for i, l := range labels {
		if l == "*" {
			labels[i] = `[^.]+`
		} else {
			labels[i] = regexp.QuoteMeta(l)
		}
	}
	return regexp.MustCompile(`(?s)^` + expr + strings.Join(labels, `\.`) + `$`)
}

// newRefRow compiles a row for the reference matcher.
func newRefRow(t testing.TB, r *Rule) refRow {
	p, err := parsePattern(r.Pattern)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(p.ascii, "*")
	tail := p.ascii[strings.LastIndex(p.ascii, "*")+1:]
	return refRow{rule: r, pat: p, re: refRegexp(p.ascii), exact: !strings.Contains(p.ascii, "*"),
		lit: len(p.ascii) - strings.Count(p.ascii, "*"), head: head, tail: tail}
}

// refMatch is the plain definition of matching: a loop over every row, with precedence spelled out.
func refMatch(rows []refRow, name string, proto Proto, port uint16) (Match, []*Rule) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > maxName {
		return Match{}, nil
	}
	name = asciiLower(name)
	var best *refRow
	var all []*Rule
	for i := range rows {
		r := &rows[i]
		if !strings.HasPrefix(name, r.head) || !strings.HasSuffix(name, r.tail) || !r.re.MatchString(name) {
			continue
		}
		all = append(all, r.rule)
		if best == nil || refBetter(r, best, proto, port) {
			best = r
		}
	}
	slices.SortStableFunc(all, func(a, b *Rule) int {
		ra, rb := byRule(rows, a), byRule(rows, b)
		switch {
		case refBetter(ra, rb, 0, 0):
			return -1
		case refBetter(rb, ra, 0, 0):
			return 1
		}
		return 0
	})
	if best == nil {
		return Match{}, all
	}
	return Match{Rule: best.rule, PortAllowed: best.rule.Allows(proto, port)}, all
}

func byRule(rows []refRow, r *Rule) *refRow {
	for i := range rows {
		if rows[i].rule == r {
			return &rows[i]
		}
	}
	return nil
}

func refBetter(a, b *refRow, proto Proto, port uint16) bool {
	switch {
	case a.exact != b.exact:
		return a.exact
	case a.lit != b.lit:
		return a.lit > b.lit
	case a.rule.Allows(proto, port) != b.rule.Allows(proto, port):
		return a.rule.Allows(proto, port)
	}
	return false // rows are visited in table order: the earlier one stays
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func refIsMicrosoft(suffixes []string, name string) bool {
	name = asciiLower(strings.TrimSuffix(name, "."))
	if name == "" || len(name) > maxName {
		return false
	}
	for _, s := range suffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return true
		}
	}
	return false
}

// fuzzTable merges both profiles, the precedence table and rows whose literals overlap in many ways.
func fuzzTable(t testing.TB) (*Table, []refRow) {
	tb := mustLoad(t, "intune-2015", "intune-current")
	extra := mustTable(t, "extra", precedenceTable+`
  - {purpose: t1, pattern: "*a", ports: "1"}
  - {purpose: t2, pattern: "*.a", ports: "2"}
  - {purpose: t3, pattern: "a", ports: "3"}
  - {purpose: t4, pattern: "*aa.a", ports: "4"}
  - {purpose: t5, pattern: "*-x.b", ports: "5"}
  - {purpose: t6, pattern: "*.x.b", ports: "6"}
  - {purpose: t7, pattern: "x.b", ports: "7"}
  - {purpose: t8, pattern: "*x.b", ports: "8"}
  - {purpose: t9, pattern: "*.b", ports: "udp/9"}
  - {purpose: i1, pattern: "a.*.b", ports: "10"}
  - {purpose: i2, pattern: "*.*.b", ports: "11"}
  - {purpose: i3, pattern: "*x.*.b", ports: "12"}
  - {purpose: i4, pattern: "x.*.y.*.b", ports: "13"}
  - {purpose: i5, pattern: "*.a.*.b", ports: "14"}
  - {purpose: i6, pattern: "a.*.x.b", ports: "15"}
  - {purpose: i7, pattern: "autodiscover.*.onmicrosoft.com", ports: "80,443"}
  - {purpose: i8, pattern: "autodiscover.*.mail.onmicrosoft.com", ports: "80,443"}
  - {purpose: i9, pattern: "*.onmicrosoft.com", ports: "443"}
  - {purpose: i10, pattern: "*-files.sharepoint.com", ports: "443"}
  - {purpose: i11, pattern: "a.*.b", ports: "udp/10"}
  - {purpose: i12, pattern: "*.*.*.b", ports: "16"}
`)
	tb.Rules = append(tb.Rules, extra.Rules...)
	var rows []refRow
	for _, r := range tb.Rules {
		if r.Pattern != "" {
			rows = append(rows, newRefRow(t, r))
		}
	}
	return tb, rows
}

// FuzzMatch checks that the fast matcher and the reference matcher always agree. The names are a fuzzed
// prefix in front of a fuzzed choice of pattern key, and in front of that pattern with its stars replaced by
// a fuzzed label, so that most inputs come close to some row.
func FuzzMatch(f *testing.F) {
	tb, rows := fuzzTable(f)
	m := NewMatcher(tb)
	for _, name := range []string{"", "a", ".", "x", "my", "A.", "manage.microsoft.com.evil.example", "\xff", "-"} {
		f.Add(name, uint8(0), uint16(443), false)
		f.Add(name, uint8(7), uint16(80), true)
	}
	f.Add(strings.Repeat("a.", 120), uint8(1), uint16(80), false)
	f.Add("autodiscover.Contoso", uint8(len(rows)-5), uint16(443), false)
	f.Fuzz(func(t *testing.T, prefix string, pick uint8, port uint16, udp bool) {
		proto := TCP
		if udp {
			proto = UDP
		}
		pat := rows[int(pick)%len(rows)].pat
		name := prefix + pat.key
		label, _, _ := strings.Cut(prefix, ".")
		filled := prefix + strings.ReplaceAll(pat.ascii, "*", label)
		for _, n := range []string{prefix, name, name + ".", strings.ToUpper(name), filled, strings.ToUpper(filled)} {
			want, wantAll := refMatch(rows, n, proto, port)
			got := m.Match(n, proto, port)
			if got != want {
				t.Fatalf("Match(%q, %v, %d) = %s %v, reference %s %v", n, proto, port,
					keyOf(got.Rule), got.PortAllowed, keyOf(want.Rule), want.PortAllowed)
			}
			if all := keys(m.MatchAll(n, nil)); !slices.Equal(all, keys(wantAll)) {
				t.Fatalf("MatchAll(%q) = %v, reference %v", n, all, keys(wantAll))
			}
			if m.IsMicrosoft(n) != refIsMicrosoft(tb.MicrosoftSuffixes, n) {
				t.Fatalf("IsMicrosoft(%q) = %v", n, m.IsMicrosoft(n))
			}
		}
	})
}

// seedFiles adds every rule file of the package as a seed.
func seedFiles(f *testing.F, prefix byte) {
	files, _ := filepath.Glob("testdata/*.*")
	more, _ := filepath.Glob("testdata/bad/*")
	prof, _ := filepath.Glob("profiles/*.yaml")
	for _, name := range slices.Concat(files, more, prof) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if prefix == 0 || firstByte(data) == prefix {
			f.Add(data)
		}
	}
}

// checkLoad is what every loader fuzz target asserts: no panic, a *FileError or a usable table within the
// row cap.
func checkLoad(t *testing.T, data []byte) {
	tb, err := ParseTable("fuzz", data)
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) || tb != nil {
			t.Fatalf("error %T %v with table %v", err, err, tb)
		}
		return
	}
	if len(tb.Rules) > maxRows {
		t.Fatalf("%d rows", len(tb.Rules))
	}
	m := NewMatcher(tb)
	for _, r := range tb.Rules {
		if r.Pattern != "" {
			p, _ := parsePattern(r.Pattern)
			name := strings.ReplaceAll(p.ascii, "*", "a")
			if got := m.Match(name, TCP, 443); got.Rule == nil && len(name) <= maxName {
				t.Fatalf("row %s (%q) does not match %q", r.Key(), r.Pattern, name)
			}
		}
		_ = r.PortsString()
	}
}

func FuzzLoadYAML(f *testing.F) {
	seedFiles(f, 0)
	f.Add([]byte("rules:\n  - &r {purpose: p, patterns: [a.example], ports: \"1-2\"}\n  - *r\n"))
	var fanout bytes.Buffer
	_ = hostile.RulesAliasFanout(&fanout, 3, 4)
	f.Add(fanout.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if firstByte(data) == '{' || firstByte(data) == '[' {
			return // the JSON targets cover these
		}
		checkLoad(t, data)
	})
}

func FuzzLoadJSON(f *testing.F) {
	seedFiles(f, '{')
	var oneLine bytes.Buffer
	_ = hostile.RulesOneLineJSON(&oneLine, 300)
	f.Add(oneLine.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if firstByte(data) != '{' {
			data = append([]byte("{"), data...)
		}
		checkLoad(t, data)
	})
}

func FuzzLoadM365(f *testing.F) {
	seedFiles(f, '[')
	f.Fuzz(func(t *testing.T, data []byte) {
		if firstByte(data) != '[' {
			data = append([]byte("["), data...)
		}
		checkLoad(t, data)
	})
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"80,443", "tcp/80,443 udp/123", "1024-65535", "udp/3478-3481", "0", "x/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			return
		}
		again, err := ParsePorts(FormatPorts(ports))
		if err != nil || !slices.Equal(again, ports) {
			t.Fatalf("%q -> %q -> %v, %v", s, FormatPorts(ports), again, err)
		}
	})
}

func FuzzToASCII(f *testing.F) {
	for _, s := range []string{"bücher.example", "例え.テスト", "*.münchen.example", "a", "\u3002", "a.*.bücher.example",
		"xn--zz.ü", "straße.de", "e\u0301.x", "*-files.ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ToASCII(s)
		if err == nil && !isASCII(out) {
			t.Fatalf("ToASCII(%q) = %q is not ASCII", s, out)
		}
		_, _ = parsePattern(s)
	})
}
