package report

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

//go:embed htmlassets/report.html.tmpl htmlassets/report.css htmlassets/report.js
var htmlAssets embed.FS

// htmlPage is everything the template shows; every string in it is escaped by html/template for its context.
type htmlPage struct {
	CSP      string
	Style    template.CSS
	Script   template.JS
	Outcome  pageOutcome
	Sentence string
	Fixes    []fixView
	Verdicts []string // the verdict columns of the requirements table
	Rules    []ruleView
	Devices  []result.Device
	DevTotal int
	DevLeft  int
	DevUntr  int
	Patterns map[string]string
	Timeline *timelineView
	Fails    []connRow
	Others   []connRow
	FailLeft int
	OthLeft  int
	Unlisted []result.NameCount
	UnlLeft  int
	Issuers  []result.NameCount
	IssLeft  int
	Summary  *result.Summary      // nil when the analysis ended early; only tested, never shown
	Capture  *result.CaptureFacts // the summary's capture facts, cleaned for display
	Quality  []qualityRow
}

// fixView is one entry of "What to change".
type fixView struct {
	Pattern, Ports, Purpose, Key string
	Total                        int
	Causes                       []causeView
	Examples                     []connRow
	FramesFilter, ServerFilter   string
	MultiFile                    bool
}

type causeView struct {
	What, Change string
	N            int
}

// ruleView is one row of the requirements table.
type ruleView struct {
	result.RuleSummary
	Counts []int // per htmlPage.Verdicts
}

type qualityRow struct {
	Name    string
	N       uint64
	Meaning string
}

// render builds the page and writes it.
func (h *htmlWriter) render(s *result.Summary) error {
	page, err := h.page(s)
	if err != nil {
		return err
	}
	tmpl, err := parseHTMLTemplate()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(h.out)
	if err := tmpl.Execute(bw, page); err != nil {
		return err
	}
	return bw.Flush()
}

// parseHTMLTemplate reads the embedded template.
func parseHTMLTemplate() (*template.Template, error) {
	funcs := template.FuncMap{"seconds": seconds, "join": strings.Join, "lower": strings.ToLower,
		"pattern": func(m map[string]string, key string) string { return cmp.Or(m[key], clean(key)) }}
	return template.New("report.html.tmpl").Funcs(funcs).ParseFS(htmlAssets, "htmlassets/report.html.tmpl")
}

// page assembles the view.
func (h *htmlWriter) page(s *result.Summary) (*htmlPage, error) {
	style, err := htmlAssets.ReadFile("htmlassets/report.css")
	if err != nil {
		return nil, err
	}
	script, err := htmlAssets.ReadFile("htmlassets/report.js")
	if err != nil {
		return nil, err
	}
	p := &htmlPage{Style: template.CSS(style), Script: template.JS(script),
		CSP: contentSecurityPolicy(style, script), Timeline: h.timeline.view(),
		Fails: h.failRows, Others: h.otherRows, FailLeft: h.failLeft, OthLeft: h.otherLeft, Summary: s}
	kind, why := decideOutcome(s, h.failed, h.matched)
	p.Outcome = kind
	p.Sentence = h.sentence(s, kind, why)
	rows := []result.RuleSummary(nil)
	if s != nil {
		rows = s.Rules
		p.Devices, p.DevTotal, p.DevUntr = cleanDevices(s.Devices), s.DevicesTotal, s.DevicesUntracked
		p.DevLeft = s.DevicesTotal - len(s.Devices)
		for _, u := range s.Unlisted[:min(len(s.Unlisted), maxHTMLUnlisted)] {
			p.Unlisted = append(p.Unlisted, result.NameCount{Name: clean(u.Name), Count: u.Count})
		}
		p.UnlLeft = len(s.Unlisted) - len(p.Unlisted)
		p.Quality = qualityRows(&s.Capture.Quality)
		p.Capture = cleanCapture(&s.Capture)
	}
	p.Patterns = map[string]string{}
	for _, r := range rows {
		p.Patterns[r.Key] = clean(r.Pattern)
	}
	p.Fixes = h.fixViews(rows)
	p.Verdicts, p.Rules = ruleViews(rows)
	p.Issuers, p.IssLeft = h.issuerList(), h.issuersLeft
	return p, nil
}

// contentSecurityPolicy forbids every load and allows exactly the page's own style and script, by hash.
func contentSecurityPolicy(style, script []byte) string {
	return "default-src 'none'; style-src " + cspHash(style) + "; script-src " + cspHash(script) +
		"; img-src 'none'; base-uri 'none'; form-action 'none'"
}

func cspHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// sentence is the outcome in one sentence, with the capture's span and the devices seen.
func (h *htmlWriter) sentence(s *result.Summary, kind pageOutcome, why string) string {
	var b strings.Builder
	switch kind {
	case outcomeFail:
		failed := h.failed
		if s != nil {
			failed = s.Failing
		}
		fmt.Fprintf(&b, "%s failed (%s)", plural(failed, "connection"), countList(h.failedBy))
		if n := len(h.fixes) - boolInt(h.fixes[""] != nil); n > 0 {
			fmt.Fprintf(&b, " across %s", plural(n, "requirement"))
		}
	case outcomePass:
		fmt.Fprintf(&b, "no Intune connection failed (%s tied to a requirement)", plural(h.matched, "record"))
	default:
		b.WriteString("the capture cannot say whether Intune traffic gets through: " + why)
	}
	if s != nil && s.Capture.First != "" {
		fmt.Fprintf(&b, ", in %s of capture from %s to %s", spanText(s.Capture.Duration), clean(s.Capture.First), clean(s.Capture.Last))
	}
	if s != nil {
		fmt.Fprintf(&b, ", %s seen", plural(s.DevicesTotal, "device"))
	}
	b.WriteString(".")
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fixViews orders the failing requirements as the table does, those tied to no requirement last.
func (h *htmlWriter) fixViews(rows []result.RuleSummary) []fixView {
	pos := map[string]int{}
	ports := map[string]string{}
	for i, r := range rows {
		pos[r.Key] = i
		ports[r.Key] = r.Ports
	}
	groups := slices.SortedFunc(maps.Values(h.fixes), func(a, b *fixGroup) int {
		pa, oka := pos[a.key]
		pb, okb := pos[b.key]
		switch {
		case a.key == "" || b.key == "":
			return cmp.Compare(boolInt(a.key == ""), boolInt(b.key == ""))
		case oka && okb:
			return cmp.Compare(pa, pb)
		case oka != okb:
			return cmp.Compare(boolInt(!oka), boolInt(!okb))
		}
		return cmp.Compare(a.key, b.key)
	})
	out := make([]fixView, 0, len(groups))
	for _, g := range groups {
		v := fixView{Pattern: clean(g.pattern), Ports: clean(ports[g.key]), Purpose: clean(g.purpose), Key: clean(g.key), Total: g.total,
			Examples: g.examples, MultiFile: g.multiFile}
		if g.key == "" {
			v.Pattern = "(not tied to a requirement)"
		}
		for c, n := range g.causes {
			if n > 0 {
				v.Causes = append(v.Causes, causeView{causeText[c].what, causeText[c].change, n})
			}
		}
		slices.SortStableFunc(v.Causes, func(a, b causeView) int { return cmp.Compare(b.N, a.N) })
		if !g.multiFile {
			v.FramesFilter = framesFilter(g.frames)
		}
		var servers []string
		for _, k := range g.servers {
			if f := serverFilter(k.proto, k.server, k.port); f != "" {
				servers = append(servers, f)
			}
		}
		if len(servers) > 0 {
			v.ServerFilter = anyOf(servers)
		}
		out = append(out, v)
	}
	return out
}

// ruleViews lays out the requirements table: one column per verdict that any row has, in verdict order.
func ruleViews(rows []result.RuleSummary) ([]string, []ruleView) {
	seen := map[rules.Verdict]bool{rules.Allowed: true, rules.Blocked: true, rules.Reset: true}
	for _, r := range rows {
		for v := range r.Verdicts {
			seen[rules.Verdict(v)] = true
		}
	}
	cols := sortedVerdicts(seen)
	names := make([]string, len(cols))
	for i, v := range cols {
		names[i] = clean(string(v))
	}
	out := make([]ruleView, len(rows))
	for i, r := range rows {
		shown := result.RuleSummary{Key: clean(r.Key), Pattern: clean(r.Pattern), Ports: clean(r.Ports),
			Purpose: clean(r.Purpose), Status: clean(r.Status)}
		out[i] = ruleView{RuleSummary: shown, Counts: make([]int, len(cols))}
		for j, v := range cols {
			out[i].Counts[j] = r.Verdicts[string(v)]
		}
	}
	return names, out
}

// issuerList is the TLS inspection issuers, most frequent first.
func (h *htmlWriter) issuerList() []result.NameCount {
	out := make([]result.NameCount, 0, len(h.issuers))
	for name, n := range h.issuers {
		out = append(out, result.NameCount{Name: clean(name), Count: n})
	}
	slices.SortFunc(out, func(a, b result.NameCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// qualityRows lists every capture-quality counter, zero or not, so a clean capture is visibly clean, then
// the rare ones that are not zero.
func qualityRows(q *result.Quality) []qualityRow {
	return append(append(append(countedQualityRows(q), lossRows(q)...), offloadRows(q)...), rareQualityRows(q)...)
}

// countedQualityRows are the counters both reports always show first, zero or not.
func countedQualityRows(q *result.Quality) []qualityRow {
	return []qualityRow{
		{"truncated packets", q.Truncated, "cut by the snapshot length; names may be missing"},
		{"undecodable packets", q.Undecodable, "not IP, or malformed headers"},
		{"undecodable DNS", q.UndecodableDNS, "port-53 payloads that are not DNS, or cut before the question"},
		{"one-sided connections", uint64(q.OneSided), "one direction only; outcomes are guesses"},
		{"mid-stream connections", uint64(q.MidStream), "capture began after the handshake"},
		{"evicted connections", q.Evicted, "dropped under the memory caps"},
		{"duplicate packets", q.Duplicates, "the same packet seen twice, counted once"},
		{"interface drops", q.InterfaceDrops, "lost by the capturing interface"},
		{"parser panics", q.ParserPanics, "recovered; the connection was marked"},
		{"ICMP rejections", q.ICMPRejections, "destination-unreachable errors read"},
		{"unmatched ICMP", q.UnmatchedICMP, "of those, quoting nothing tracked"},
		{"fragments reassembled", q.FragmentsReassembled, "datagrams rebuilt from IP fragments"},
		{"fragments dropped", q.FragmentsDropped, "datagrams never whole; not analysed"},
		{"fragments incomplete", q.FragmentsIncomplete, "datagrams unfinished at the end; not analysed"},
	}
}

// spanText renders a capture's duration for people: "5 min 0.5 s".
func spanText(d float64) string {
	return (time.Duration(d * float64(time.Second))).Round(time.Millisecond).String()
}

// cleanDevices copies the devices with every string cleaned for display.
func cleanDevices(devs []result.Device) []result.Device {
	out := make([]result.Device, len(devs))
	for i, d := range devs {
		c := d
		c.Address, c.First, c.Last = clean(d.Address), clean(d.First), clean(d.Last)
		c.Names = cleanAll(d.Names)
		c.Verdicts = make(map[string]int, len(d.Verdicts))
		for v, n := range d.Verdicts {
			c.Verdicts[clean(v)] += n
		}
		out[i] = c
	}
	return out
}

// cleanCapture copies the capture facts with every string cleaned for display.
func cleanCapture(c *result.CaptureFacts) *result.CaptureFacts {
	out := *c
	out.Files, out.LinkTypes, out.Warnings = cleanAll(c.Files), cleanAll(c.LinkTypes), cleanAll(c.Warnings)
	out.First, out.Last = clean(c.First), clean(c.Last)
	return &out
}

func cleanAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = clean(s)
	}
	return out
}
