package report

import (
	"io"
	"slices"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Caps of the HTML report. The page must stay small and fast for a capture of any size: the writer keeps at
// most this much, counts the rest, and the page says what it left out.
const (
	maxHTMLFailures   = 2000 // failing connections listed
	maxHTMLOthers     = 500  // other connections listed
	maxHTMLExamples   = 5    // first records shown per failing requirement
	maxHTMLFrames     = 20   // first frames in a requirement's frame filter
	maxHTMLServers    = 8    // destinations in a requirement's address filter
	maxHTMLIssuers    = 100  // distinct TLS inspection issuers
	maxHTMLUnlisted   = 200  // unlisted names listed
	maxHTMLTextLength = 300  // characters of any string from a packet; longer ones are cut with "…"
)

// htmlWriter gathers a bounded view of the records and writes one self-contained HTML page at Summary (or
// Close, without the summary's sections, if the analysis ended early).
type htmlWriter struct {
	out  io.Writer
	opts Options
	lc   lifecycle

	records, matched, failed int
	failedBy                 map[rules.Verdict]int
	fixes                    map[string]*fixGroup // failing records by rule key; "" for those tied to none
	timeline                 *timeline
	failRows, otherRows      []connRow
	failLeft, otherLeft      int
	issuers                  map[string]int
	issuersLeft              int
}

// fixGroup is the evidence for one failing requirement.
type fixGroup struct {
	key, pattern, purpose string
	total                 int
	causes                [numCauses]int
	examples              []connRow
	frames                []uint64
	multiFile             bool
	servers               []serverKey // distinct destinations, bounded
}

// serverKey is a destination of failing records, turned into a display filter when the page is written.
type serverKey struct {
	proto, server string
	port          uint16
}

// connRow is a record as the page lists it: only what is shown, packet strings cut to maxHTMLTextLength.
type connRow struct {
	Verdict, Type, Proto       string
	Client, Server             string // address:port
	Name, NameSource, Rule     string
	Stage, State, Reason, File string
	Port                       uint16
	FirstFrame                 uint64
	Start                      string
	Filter                     string
	Cause                      string
}

func newHTMLWriter(w io.Writer, opts Options) *htmlWriter {
	return &htmlWriter{out: w, opts: opts, failedBy: map[rules.Verdict]int{}, fixes: map[string]*fixGroup{},
		timeline: newTimeline(), issuers: map[string]int{}}
}

// Record folds r into the bounded view.
func (h *htmlWriter) Record(r *result.Record) error {
	if err := h.lc.record(); err != nil {
		return err
	}
	h.records++
	if r.RuleKey != "" {
		h.matched++
	}
	h.timeline.add(r.Start, r.Verdict)
	fail := slices.Contains(h.opts.FailOn, r.Verdict)
	if fail {
		h.failed++
		h.failedBy[r.Verdict]++
		h.addFix(r)
		h.failRows, h.failLeft = appendCapped(h.failRows, r, fail, maxHTMLFailures, h.failLeft)
	} else {
		h.otherRows, h.otherLeft = appendCapped(h.otherRows, r, fail, maxHTMLOthers, h.otherLeft)
	}
	if r.Verdict == rules.Intercepted || r.CertRootStore == result.RootStoreTrustFile && r.RuleKey != "" {
		h.addIssuer(r)
	}
	return nil
}

// appendCapped appends r's row unless the list is full, in which case it counts it as left out; the row is
// built only when kept, so records past the caps cost no allocation.
func appendCapped(rows []connRow, r *result.Record, fail bool, limit, left int) ([]connRow, int) {
	if len(rows) >= limit {
		return rows, left + 1
	}
	return append(rows, newConnRow(r, fail)), left
}

// addFix counts a failing record against its requirement.
func (h *htmlWriter) addFix(r *result.Record) {
	g := h.fixes[r.RuleKey]
	if g == nil {
		g = &fixGroup{key: r.RuleKey, pattern: r.Rule, purpose: r.Purpose}
		h.fixes[r.RuleKey] = g
	}
	g.total++
	g.causes[causeOf(r)]++
	if len(g.examples) < maxHTMLExamples {
		g.examples = append(g.examples, newConnRow(r, true))
	}
	if r.File != "" {
		g.multiFile = true
	}
	if len(g.frames) < maxHTMLFrames && !slices.Contains(g.frames, r.FirstFrame) {
		g.frames = append(g.frames, r.FirstFrame)
	}
	if k := (serverKey{r.Proto, r.Server, r.ServerPort}); len(g.servers) < maxHTMLServers && !slices.Contains(g.servers, k) {
		g.servers = append(g.servers, serverKey{strings.Clone(r.Proto), strings.Clone(r.Server), r.ServerPort})
	}
}

// addIssuer counts the issuer of an intercepted connection's certificate, or of one allowed because its
// chain verified to a --trust root (inspected all the same).
func (h *htmlWriter) addIssuer(r *result.Record) {
	issuer := r.CertIssuer
	if issuer == "" {
		return
	}
	if r.CertRootStore == result.RootStoreTrustFile {
		issuer += ", trusted with --trust"
	}
	if _, ok := h.issuers[issuer]; !ok && len(h.issuers) >= maxHTMLIssuers {
		h.issuersLeft++
		return
	}
	h.issuers[issuer]++
}

// Summary writes the page.
func (h *htmlWriter) Summary(s *result.Summary) error {
	if err := h.lc.summary(); err != nil {
		return err
	}
	return h.lc.fail("html report", h.render(s))
}

// Close writes the page without the summary's sections if no summary came.
func (h *htmlWriter) Close() error {
	if h.lc.closed {
		return nil
	}
	if !h.lc.summarized && h.lc.err == nil {
		h.lc.fail("html report", h.render(nil))
	}
	h.lc.closed = true
	return h.lc.err
}

// newConnRow copies what the page shows of r.
func newConnRow(r *result.Record, fail bool) connRow {
	row := connRow{Verdict: clean(string(r.Verdict)), Type: clean(r.Type), Proto: clean(r.Proto),
		Client: clean(hostPort(r.Client, r.ClientPort)), Server: clean(hostPort(r.Server, r.ServerPort)),
		Name: clean(r.Name), NameSource: clean(string(r.NameSource)), Rule: clean(r.Rule), Stage: clean(string(r.Stage)),
		State: clean(string(r.State)), Reason: clean(r.Reason), File: clean(r.File), Port: r.Port, FirstFrame: r.FirstFrame,
		Start: clean(r.Start), Filter: recordFilter(r)}
	if r.Warning != "" {
		row.Reason = clean(strings.TrimSpace(r.Reason + " warning: " + r.Warning))
	}
	if fail {
		row.Cause = causeText[causeOf(r)].what
	}
	return row
}

// clean is how every string from a packet or a rule file reaches the page: terminal-safe first (control
// characters, bidi overrides and invalid bytes shown as Go escapes, as in the text report, so the page can be
// printed on a terminal and a name cannot reorder itself on screen), then cut; html/template escapes the
// result for where it lands.
func clean(s string) string { return cut(safetext.Text(s)) }

// cut shortens s to maxHTMLTextLength runes.
func cut(s string) string {
	if len(s) <= maxHTMLTextLength {
		return s
	}
	n := 0
	for i := range s {
		if n == maxHTMLTextLength {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
