package report

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Hostile names a page must show as text: a script element, an attribute break-out with an event handler, and
// quotes of both kinds.
const (
	hostileScript = "<script>alert(1)</script>.manage.microsoft.com"
	hostileImg    = `"><img src=x onerror=alert(1)>.manage.microsoft.com`
	hostileQuotes = `it's "quoted" & <b>bold</b>`
)

func TestHTMLGolden(t *testing.T) {
	tests := []struct {
		golden string
		opts   Options
		recs   []result.Record
		sum    *result.Summary
	}{
		{"html.golden", Options{}, fixtureRecords(), fixtureSummary()},
		{"html-pass.golden", Options{}, passRecords(), passSummary()},
		{"html-empty.golden", Options{}, nil, &result.Summary{}},
		{"html-nosummary.golden", Options{}, fixtureRecords()[:3], nil},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got := run(t, "html", tt.opts, tt.recs, tt.sum)
			checkGolden(t, tt.golden, got)
			if again := run(t, "html", tt.opts, tt.recs, tt.sum); !bytes.Equal(got, again) {
				t.Error("two runs over the same input differ")
			}
			checkPageSafe(t, got)
		})
	}
}

// TestHTMLSectionOrder checks the sections come in the order a network team reads them.
func TestHTMLSectionOrder(t *testing.T) {
	page := run(t, "html", Options{}, fixtureRecords(), fixtureSummary())
	want := []string{"outcome", "fix", "requirements", "devices", "timeline", "connections", "capture"}
	var got []string
	for _, m := range regexp.MustCompile(`<section id="([a-z]+)"`).FindAllSubmatch(page, -1) {
		got = append(got, string(m[1]))
	}
	if !slices.Equal(got, want) {
		t.Errorf("sections %v, want %v", got, want)
	}
}

// hostileRecords puts hostile strings in every string field a packet can fill.
func hostileRecords() []result.Record {
	var out []result.Record
	for i, name := range []string{hostileScript, hostileImg, hostileQuotes, hostileSNI, hostileName} {
		r := withRule(flow(uint64(10*i+1), "10.0.0.9", "52.1.1.9", 443, name, "sni"), "t:1", name, name)
		r.Verdict, r.Stage, r.State, r.Reason, r.Warning = rules.Reset, "after-client-hello", "reset", name, name
		r.File = name
		out = append(out, r)
		r.Verdict, r.RuleKey, r.FirstFrame = rules.Unlisted, "", r.FirstFrame+1
		out = append(out, r)
	}
	return out
}

func hostileSummary() *result.Summary {
	return &result.Summary{
		Rules:    []result.RuleSummary{{Key: "t:1", Pattern: hostileImg, Purpose: hostileScript, Ports: hostileQuotes, Status: "failing", Verdicts: map[string]int{"reset": 5, hostileImg: 1}}},
		Unlisted: []result.NameCount{{Name: hostileScript, Count: 1}, {Name: hostileImg, Count: 2}},
		Failing:  5,
		Capture: result.CaptureFacts{Files: []string{hostileImg}, Warnings: []string{hostileScript},
			LinkTypes: []string{hostileQuotes}, First: hostileImg, Last: hostileScript},
	}
}

func TestHTMLHostileNames(t *testing.T) {
	page := run(t, "html", Options{}, hostileRecords(), hostileSummary())
	checkPageSafe(t, page)
	text := pageText(t, page)
	for _, s := range []string{hostileScript, hostileImg, hostileQuotes} {
		if !strings.Contains(text, s) {
			t.Errorf("page text does not show %q literally", s)
		}
	}
}

// FuzzHTMLWriter puts arbitrary strings in every field a packet can fill and checks the page stays inert: the
// only script is the report's own, no element or attribute came from the input.
func FuzzHTMLWriter(f *testing.F) {
	f.Add(hostileScript, hostileImg, hostileQuotes, "</style><script>x</script>")
	f.Add("a.manage.microsoft.com", "", "", "")
	f.Add("<!--", "]]>", "<svg onload=alert(1)>", "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, name, reason, file, warning string) {
		r := withRule(flow(7, name, warning, 443, name, reason), "t:1", reason, warning)
		r.Verdict, r.Stage, r.Reason, r.Warning, r.File = rules.Verdict(name), result.Stage(reason), reason, warning, file
		r2 := r
		r2.Verdict = rules.Blocked
		sum := &result.Summary{
			Rules:    []result.RuleSummary{{Key: "t:1", Pattern: name, Purpose: reason, Ports: file, Status: warning, Verdicts: map[string]int{name: 1}}},
			Unlisted: []result.NameCount{{Name: name, Count: 1}},
			Capture:  result.CaptureFacts{Files: []string{file}, Warnings: []string{warning}, LinkTypes: []string{reason}, First: name},
		}
		checkPageSafe(t, run(t, "html", Options{}, []result.Record{r, r2}, sum))
	})
}

// allowedTags are the elements the template writes; anything else came from the input.
var allowedTags = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true,
	"body": true, "header": true, "h1": true, "nav": true, "a": true, "main": true, "section": true, "h2": true,
	"h3": true, "p": true, "strong": true, "article": true, "code": true, "span": true, "ul": true, "li": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "input": true, "svg": true,
	"desc": true, "g": true, "rect": true, "line": true, "text": true, "details": true, "summary": true,
	"footer": true, "script": true}

// checkPageSafe parses page as a browser would and fails on any element, attribute, script or style that the
// template did not write, and on a CSP that does not match the inline style and script.
func checkPageSafe(t *testing.T, page []byte) {
	t.Helper()
	checkPrintable(t, page)
	z := html.NewTokenizer(bytes.NewReader(page))
	var scripts, styles []string
	var csp string
	var open string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			checkCSP(t, csp, styles, scripts)
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				t.Fatalf("element <%s> that the template does not write", tok.Data)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") || a.Key == "src" || a.Key == "href" && !strings.HasPrefix(a.Val, "#") {
					t.Fatalf("attribute %s=%q on <%s>", a.Key, a.Val, tok.Data)
				}
				if tok.Data == "meta" && a.Key == "content" && strings.Contains(a.Val, "default-src") {
					csp = a.Val
				}
			}
			open = tok.Data
		case html.TextToken:
			switch open {
			case "script":
				scripts = append(scripts, string(z.Text()))
			case "style":
				styles = append(styles, string(z.Text()))
			}
			open = ""
		default:
			open = ""
		}
	}
}

// checkCSP checks the policy forbids loads and allows exactly the one style and script the page holds.
func checkCSP(t *testing.T, csp string, styles, scripts []string) {
	t.Helper()
	if len(scripts) != 1 || len(styles) != 1 {
		t.Fatalf("%d scripts and %d styles, want one each", len(scripts), len(styles))
	}
	want := contentSecurityPolicy([]byte(styles[0]), []byte(scripts[0]))
	if csp != want {
		t.Fatalf("CSP %q, want %q", csp, want)
	}
	if !strings.HasPrefix(csp, "default-src 'none';") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q allows more than the page's own style and script", csp)
	}
}

// pageText is the page's text as a reader sees it (entities decoded, no markup).
func pageText(t *testing.T, page []byte) string {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte('\n')
		}
	}
}

func TestHTMLCaps(t *testing.T) {
	var recs []result.Record
	for i := range 6000 {
		v := rules.Allowed
		if i%2 == 0 {
			v = rules.Blocked
		}
		r := withRule(flow(uint64(i+1), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "52.1.1.1", 443,
			strings.Repeat("x", 1000)+".manage.microsoft.com", "sni"), "t:1", manage, "Intune")
		r.Verdict, r.Stage, r.Reason = v, "after-syn", strings.Repeat("why ", 500)
		recs = append(recs, r)
	}
	page := run(t, "html", Options{}, recs, &result.Summary{Failing: 3000,
		Rules: []result.RuleSummary{{Key: "t:1", Pattern: manage, Status: "failing"}}})
	checkPageSafe(t, page)
	rows := bytes.Count(page, []byte(`<tr class="v-row-`))
	if want := maxHTMLFailures + maxHTMLOthers; rows != want {
		t.Errorf("%d connection rows, want %d", rows, want)
	}
	for _, s := range []string{"All 2000 failing connections listed, 1000 more left out", "500 others, 2500 more left out",
		"6000 client addresses", "5900 more not listed"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("page does not say %q", s)
		}
	}
	if perRow := len(page) / rows; perRow > 2500 {
		t.Errorf("%d bytes a row: long packet strings are not cut", perRow)
	}
}

func TestCauseOf(t *testing.T) {
	tests := []struct {
		r    result.Record
		want cause
	}{
		{result.Record{Verdict: rules.Blocked, Stage: "after-syn", State: "unanswered"}, causeSYNDropped},
		{result.Record{Verdict: rules.Reset, Stage: "after-syn", State: "refused"}, causeSYNRefused},
		{result.Record{Verdict: rules.Blocked, Stage: "after-syn", State: "rejected"}, causeSYNRejected},
		{result.Record{Verdict: rules.Reset, Stage: "after-client-hello"}, causeSNIFilter},
		{result.Record{Verdict: rules.Blocked, Stage: "after-connect", ProxyStatus: 407}, causeProxyAuth},
		{result.Record{Verdict: rules.Blocked, Stage: "after-connect", ProxyStatus: 403}, causeProxyDenied},
		{result.Record{Verdict: rules.Blocked, Stage: "after-connect", ProxyStatus: 502}, causeProxyError},
		{result.Record{Verdict: rules.Intercepted, Stage: "after-client-hello"}, causeIntercepted},
		{result.Record{Type: "dns", Verdict: rules.Blocked, Stage: "after-query"}, causeDNS},
		{result.Record{Verdict: rules.Reset, Stage: "after-data"}, causeResetLater},
		{result.Record{Verdict: rules.Blocked, Stage: "after-socks", SOCKS: &result.SOCKS{Version: "5"}}, causeSOCKSDenied},
		{result.Record{Verdict: rules.Reset, Stage: "after-socks"}, causeResetLater},
		{result.Record{Verdict: rules.Unlisted}, causeOther},
	}
	for _, tt := range tests {
		if got := causeOf(&tt.r); got != tt.want {
			t.Errorf("causeOf(%+v) = %q, want %q", tt.r, causeText[got].what, causeText[tt.want].what)
		}
	}
}

func TestDecideOutcome(t *testing.T) {
	tests := []struct {
		name            string
		s               *result.Summary
		failed, matched int
		want            pageOutcome
	}{
		{"failing", &result.Summary{Failing: 2}, 0, 5, outcomeFail},
		{"failing beats undecodable", &result.Summary{Failing: 1, Capture: result.CaptureFacts{Packets: 10,
			Quality: result.Quality{Undecodable: 9}}}, 0, 1, outcomeFail},
		{"no summary, failures", nil, 3, 3, outcomeFail},
		{"no summary", nil, 0, 3, outcomeInconclusive},
		{"no intune traffic", &result.Summary{}, 0, 0, outcomeInconclusive},
		{"most undecodable", &result.Summary{Capture: result.CaptureFacts{Packets: 10,
			Quality: result.Quality{Undecodable: 6}}}, 0, 4, outcomeInconclusive},
		{"half undecodable", &result.Summary{Capture: result.CaptureFacts{Packets: 10,
			Quality: result.Quality{Undecodable: 5}}}, 0, 4, outcomePass},
		{"pass", &result.Summary{}, 0, 1, outcomePass},
	}
	for _, tt := range tests {
		if got, _ := decideOutcome(tt.s, tt.failed, tt.matched); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestFilters(t *testing.T) {
	r := result.Record{Proto: "tcp", Client: "198.18.0.2", ClientPort: 57646, Server: "198.18.1.12", ServerPort: 443}
	if got, want := recordFilter(&r), "ip.addr==198.18.0.2 && ip.addr==198.18.1.12 && tcp.port==57646 && tcp.port==443"; got != want {
		t.Errorf("recordFilter = %q, want %q", got, want)
	}
	r = result.Record{Proto: "udp", Client: "2001:2::1", ClientPort: 5353, Server: "::ffff:198.18.0.1", ServerPort: 53}
	if got, want := recordFilter(&r), "ipv6.addr==2001:2::1 && ip.addr==198.18.0.1 && udp.port==5353 && udp.port==53"; got != want {
		t.Errorf("recordFilter = %q, want %q", got, want)
	}
	if got := recordFilter(&result.Record{Client: `"><x`, Server: "1.2.3.4"}); got != "" {
		t.Errorf("recordFilter of a non-address = %q, want none", got)
	}
	if got, want := framesFilter([]uint64{97, 100}), "frame.number in {97, 100}"; got != want {
		t.Errorf("framesFilter = %q, want %q", got, want)
	}
	if got, want := anyOf([]string{"a", "b"}), "(a) || (b)"; got != want {
		t.Errorf("anyOf = %q, want %q", got, want)
	}
}

// TestHTMLIssuersTrusted checks that a listed connection allowed because --trust vouches for its CA counts
// under its issuer, marked as trusted, and that one under a public root does not.
func TestHTMLIssuersTrusted(t *testing.T) {
	trusted := trustedRec("e.manage.microsoft.com", "t:2", "Contoso SSL Inspection CA")
	public := trusted
	public.CertIssuer, public.CertRoot, public.CertRootStore = "DigiCert", "DigiCert Global Root G2", "mozilla"
	sum := &result.Summary{Capture: result.CaptureFacts{Packets: 10}, Rules: []result.RuleSummary{{Key: "t:2", Status: "ok"}}}
	page := pageText(t, run(t, "html", Options{}, []result.Record{trusted, public}, sum))
	if !strings.Contains(page, "Contoso SSL Inspection CA, trusted with --trust") {
		t.Errorf("trusted inspection CA not listed:\n%s", page)
	}
	_, section, _ := strings.Cut(page, "TLS inspection issuers")
	section, _, _ = strings.Cut(section, "Capture facts")
	if section == "" || strings.Contains(section, "DigiCert") {
		t.Errorf("inspection section %q: want the trusted CA alone", section)
	}
}

// TestHTMLIssuers checks the TLS inspection section shows only when intercepted records named an issuer.
func TestHTMLIssuers(t *testing.T) {
	for _, issuers := range []map[string]int{nil, {"Contoso Inspection CA <x>": 3}} {
		var buf bytes.Buffer
		h := newHTMLWriter(&buf, Options{FailOn: defaultFailOn()})
		for name, n := range issuers {
			h.issuers[name] = n
		}
		if err := h.Summary(passSummary()); err != nil {
			t.Fatal(err)
		}
		has := bytes.Contains(buf.Bytes(), []byte("TLS inspection issuers"))
		if has != (issuers != nil) {
			t.Errorf("issuers %v: section shown %v", issuers, has)
		}
		if issuers != nil && !strings.Contains(pageText(t, buf.Bytes()), "Contoso Inspection CA <x>") {
			t.Error("issuer not shown as text")
		}
	}
}

// checkPrintable fails on bytes a terminal or a browser would act on rather than show: control characters
// other than newline and tab, C1 controls, bidi overrides and isolates, invalid UTF-8.
func checkPrintable(t *testing.T, page []byte) {
	t.Helper()
	for i, r := range string(page) {
		switch {
		case r == utf8.RuneError:
			t.Fatalf("invalid UTF-8 at byte %d", i)
		case r < 0x20 && r != '\n' && r != '\t', r >= 0x7f && r < 0xa0,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			t.Fatalf("raw %U at byte %d: %q", r, i, page[max(0, i-40):min(len(page), i+40)])
		}
	}
}

// BenchmarkHTMLRecordPastCaps measures a record once the page's lists are full: the common case in a long
// capture, which must not allocate.
func BenchmarkHTMLRecordPastCaps(b *testing.B) {
	recs := fixtureRecords()
	w := newHTMLWriter(discard{}, Options{FailOn: defaultFailOn()})
	for i := range maxHTMLFailures + maxHTMLOthers + 5000 {
		w.Record(&recs[i%len(recs)])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.Record(&recs[i%len(recs)])
		i++
	}
}
