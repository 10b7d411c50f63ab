package allowlist

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

// row is a summary row for the fixture.
func row(n int, pattern, ports, status string, verdicts map[string]int) result.RuleSummary {
	return result.RuleSummary{Key: fmt.Sprintf("t:%d", n), Table: "t", Row: n, Purpose: "Intune", Pattern: pattern,
		Ports: ports, Status: status, Verdicts: verdicts}
}

// fixtureSummary holds every pattern form and the edge cases of each format.
func fixtureSummary() *result.Summary {
	hostile := row(6, "13.107.219.0/24", "443", "failing", map[string]int{"blocked": 4})
	hostile.Purpose = "=HYPERLINK(\"x\")\u2028alert(1)\nnext line"
	return &result.Summary{
		Rules: []result.RuleSummary{
			row(1, "*.manage.microsoft.com", "80,443", "failing", map[string]int{"allowed": 1, "blocked": 2}),
			row(2, "*manage.microsoft.com", "80,443", "failing", map[string]int{"reset": 1}),
			row(3, "manage.microsoft.com", "80,443", "failing", map[string]int{"blocked": 1}),
			row(4, "EnterpriseEnrollment.Manage.microsoft.com", "443", "ok", map[string]int{"allowed": 3}),
			row(5, "autodiscover.*.onmicrosoft.com", "443", "failing", map[string]int{"blocked": 1}),
			hostile,
			row(7, "2603:1000::/25", "443", "failing", map[string]int{"reset": 1}),
			row(8, "*.social.technet.microsoft.com", "80", "failing", map[string]int{"blocked": 1}),
			row(9, "*.Bücher.example", "443", "failing", map[string]int{"blocked": 1}),
			row(10, "login.microsoftonline.com", "443", "not-seen", map[string]int{"port-not-allowed": 2}),
			row(11, "graph.microsoft.com", "443", "not-seen", nil),
			row(12, "", "", "not-seen", nil),
			row(13, "*.a.b.example", "443", "failing", map[string]int{"blocked": 1}),
			row(14, "*.b.example", "443", "failing", map[string]int{"blocked": 1}),
			row(15, "bad pattern\n!", "443", "failing", map[string]int{"blocked": 1}),
			row(16, "*cdn.*.example.com", "tcp/443 udp/443", "failing", map[string]int{"blocked": 1}),
			row(17, "*.manage.microsoft.com", "8443", "failing", map[string]int{"blocked": 1}),
		},
		Capture: result.CaptureFacts{Files: []string{"demo.pcapng"}},
	}
}

func TestGolden(t *testing.T) {
	for _, format := range Formats() {
		for _, all := range []bool{false, true} {
			name := format
			if all {
				name += "-all"
			}
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(format, &buf, fixtureSummary(), Options{All: all, PACProxy: "proxy.example:3128"}); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, name+".golden", buf.Bytes())
			})
		}
	}
}

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

// TestSelection checks which rows each mode writes, by key, on the csv format (one line a row).
func TestSelection(t *testing.T) {
	tests := []struct {
		all  bool
		want []string
	}{
		{false, []string{"*.manage.microsoft.com", "*manage.microsoft.com", "manage.microsoft.com",
			"autodiscover.*.onmicrosoft.com", "13.107.219.0/24", "2603:1000::/25", "*.social.technet.microsoft.com",
			"*.Bücher.example", "*.a.b.example", "*.b.example", "bad pattern\n!", "*cdn.*.example.com", "*.manage.microsoft.com"}},
		{true, []string{"*.manage.microsoft.com", "*manage.microsoft.com", "manage.microsoft.com",
			"EnterpriseEnrollment.Manage.microsoft.com", "autodiscover.*.onmicrosoft.com", "13.107.219.0/24",
			"2603:1000::/25", "*.social.technet.microsoft.com", "*.Bücher.example", "login.microsoftonline.com",
			"*.a.b.example", "*.b.example", "bad pattern\n!", "*cdn.*.example.com", "*.manage.microsoft.com"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Write("csv", &buf, fixtureSummary(), Options{All: tt.all}); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rec := range recs[1:] {
			got = append(got, rec[0])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("all=%v: rows\n%q\nwant\n%q", tt.all, got, tt.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		format string
		s      *result.Summary
		opts   Options
		want   string
	}{
		{"xml", fixtureSummary(), Options{}, `write allow-list: unknown format "xml" (want fqdn, squid, pac, csv, no-inspection)`},
		{"fqdn", nil, Options{}, "write allow-list: no summary (the analysis ended early)"},
		{"pac", fixtureSummary(), Options{}, "write pac allow-list: the pac format needs --pac-proxy HOST:PORT, the proxy for every other name"},
	}
	for _, tt := range tests {
		if err := Write(tt.format, &bytes.Buffer{}, tt.s, tt.opts); err == nil || err.Error() != tt.want {
			t.Errorf("Write(%q) = %v, want %q", tt.format, err, tt.want)
		}
	}
	if err := Write("fqdn", failWriter{}, fixtureSummary(), Options{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error = %v, want the writer's", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCheckProxy(t *testing.T) {
	for _, ok := range []string{"proxy.example:3128", "10.0.0.1:8080", "[2001:2::1]:3128", "Proxy-1.Corp:80"} {
		if err := CheckProxy(ok); err != nil {
			t.Errorf("CheckProxy(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "proxy", "proxy:0", "proxy:65536", "proxy:http", ":3128", `a";alert(1);"b:80`, "a b:80"} {
		if err := CheckProxy(bad); err == nil {
			t.Errorf("CheckProxy(%q) accepted", bad)
		}
	}
}

func TestCommentText(t *testing.T) {
	if got, want := commentText("a\nb\r\u2028c\u2029d\x1b[31m\u202e"), "a b  c d [31m "; got != want {
		t.Errorf("commentText = %q, want %q", got, want)
	}
}

// TestRegexMatchesRules holds every pattern's regular expression to the rules matcher, the reference for what
// a pattern means, over names built to sit on each boundary.
func TestRegexMatchesRules(t *testing.T) {
	patterns := []string{"*.manage.microsoft.com", "*manage.microsoft.com", "manage.microsoft.com",
		"autodiscover.*.onmicrosoft.com", "*.*.example.com", "*cdn.*.example.com", "a.*.*.example.com", "*.Bücher.example"}
	names := []string{"manage.microsoft.com", "a.manage.microsoft.com", "a.b.manage.microsoft.com", "mymanage.microsoft.com",
		"manage.microsoft.com.evil", "xmanage.microsoft.comx", "anage.microsoft.com", "autodiscover.contoso.onmicrosoft.com",
		"autodiscover.onmicrosoft.com", "autodiscover.a.b.onmicrosoft.com", "x.autodiscover.a.onmicrosoft.com",
		"a.b.example.com", "b.example.com", "a.b.c.example.com", "cdn.x.example.com", "mycdn.x.example.com",
		"a.cdn.x.example.com", "cdnx.y.example.com", "a.x.y.example.com", "a.x.example.com", "b.xn--bcher-kva.example",
		"xn--bcher-kva.example", "example.com"}
	for _, p := range patterns {
		table, err := rules.ParseTable("t", []byte(fmt.Sprintf("rules:\n  - purpose: x\n    pattern: %q\n    ports: \"443\"\n", p)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		m := rules.NewMatcher(table)
		tg, err := parseTarget(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		re := regexp.MustCompile(tg.regex())
		for _, n := range names {
			want := m.Match(n, rules.TCP, 443).Rule != nil
			if got := re.MatchString(n); got != want {
				t.Errorf("pattern %s, regex %s, name %s: regex says %v, rules %v", p, tg.regex(), n, got, want)
			}
		}
	}
}

// FuzzParseTarget feeds arbitrary patterns through every format: a pattern the rules accept must give a regex
// that agrees with the rules matcher, and no pattern may put a line break or a quote into the output outside
// a comment.
func FuzzParseTarget(f *testing.F) {
	for _, r := range fixtureSummary().Rules {
		f.Add(r.Pattern, "a."+strings.TrimLeft(r.Pattern, "*."))
	}
	f.Add("*.*.example.com", "a.b.example.com")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		s := &result.Summary{Rules: []result.RuleSummary{{Key: "t:1", Pattern: pattern, Ports: "443", Status: "failing", Purpose: name}}}
		for _, format := range Formats() {
			var buf bytes.Buffer
			if err := Write(format, &buf, s, Options{PACProxy: "p.example:3128"}); err != nil {
				t.Fatal(err)
			}
			if format == "csv" {
				continue
			}
			for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.HasPrefix(strings.TrimSpace(line), "//") {
					continue
				}
				if strings.ContainsAny(line, "\r\u2028\u2029'") || strings.Count(line, `"`)%2 != 0 {
					t.Fatalf("%s: pattern %q gives the line %q", format, pattern, line)
				}
			}
		}
		table, err := rules.ParseTable("f", []byte(fmt.Sprintf("rules:\n  - purpose: x\n    pattern: %q\n    ports: \"443\"\n", pattern)))
		if err != nil || strings.ContainsAny(pattern, "\n") {
			return
		}
		tg, err := parseTarget(table.Rules[0].Pattern)
		if err != nil || tg.kind == kindCIDR {
			return
		}
		want := rules.NewMatcher(table).Match(name, rules.TCP, 443).Rule != nil
		ascii, err := rules.ToASCII(name)
		if err != nil || ascii != name {
			return // the matcher lower-cases and maps names; the regex sees names as packets carry them
		}
		if strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return // a proxy refuses a request whose host holds a control character or a space before any regex
		}
		if got := regexp.MustCompile(tg.regex()).MatchString(name); got != want {
			t.Fatalf("pattern %q, regex %s, name %q: regex %v, rules %v", pattern, tg.regex(), name, got, want)
		}
	})
}
