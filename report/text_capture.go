package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// renderCapture writes what was read, so the reader knows what the verdicts rest on.
func (t *textWriter) renderCapture(b *bytes.Buffer, c *result.CaptureFacts) {
	b.WriteString("\nCapture\n")
	tb := table{indent: "  "}
	tb.add("", "files", escapeJoin(c.Files))
	tb.add("", "packets", fmt.Sprintf("%d (%d bytes)", c.Packets, c.Bytes))
	tb.add("", "time", timeSpan(c))
	tb.add("", "link types", escapeJoin(c.LinkTypes))
	tb.add("", "connections", strconv.Itoa(c.Connections))
	tb.add("", "DNS lookups", strconv.Itoa(c.DNSExchanges))
	tb.add("", "records", fmt.Sprintf("%d (%s, %s)", t.tally.records, plural(t.tally.flows, "connection"),
		plural(t.tally.dns, "DNS lookup")))
	tb.render(b, t.opts.Color)
}

// timeSpan is the capture's first and last packet time with the duration between.
func timeSpan(c *result.CaptureFacts) string {
	if c.First == "" && c.Last == "" {
		return ""
	}
	return fmt.Sprintf("%s to %s (%s s)", safetext.Text(c.First), safetext.Text(c.Last), seconds(c.Duration))
}

// seconds formats a duration in seconds to the millisecond, the same on every platform.
func seconds(d float64) string { return strconv.FormatFloat(d, 'f', 3, 64) }

// renderQuality writes what limits the capture's evidence (issue 7): every counter, zero or not, so a clean
// capture is visibly clean, then the problems reading the input. (In the text report "warnings" are the
// records' own warnings, under Other problems; the input's are "input problems".)
func (t *textWriter) renderQuality(b *bytes.Buffer, c *result.CaptureFacts) {
	q := &c.Quality
	b.WriteString("\nCapture quality\n")
	tb := table{indent: "  "}
	rows := append(countedQualityRows(q), lossRows(q)...)
	for _, row := range append(rows, rareQualityRows(q)...) {
		tb.add("", row.Name, u64(row.N), row.Meaning)
	}
	tb.render(b, t.opts.Color)
	if line := offloadLine(q); line != "" {
		var item bytes.Buffer
		wrap(&item, line, "    ", reportWidth)
		b.WriteString("  " + strings.TrimPrefix(item.String(), "    "))
	}
	if len(c.Warnings) == 0 {
		b.WriteString("  input problems: none\n")
		return
	}
	b.WriteString("  input problems:\n")
	for _, w := range c.Warnings {
		if t.opts.Wide {
			b.WriteString("    - " + safetext.Text(w) + "\n")
			continue
		}
		var item bytes.Buffer
		wrap(&item, safetext.Text(w), "      ", reportWidth)
		b.WriteString("    - " + strings.TrimPrefix(item.String(), "      "))
	}
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// escapeJoin escapes and joins a list for one cell.
func escapeJoin(list []string) string {
	esc := make([]string, len(list))
	for i, s := range list {
		esc[i] = safetext.Text(s)
	}
	return strings.Join(esc, ", ")
}

// verboseRow is one record as the verbose table shows it, rendered when it arrives so no record is kept.
type verboseRow struct {
	verdict rules.Verdict
	cells   []string
	detail  string // the narrow layout's line under the row
}

func newVerboseRow(r *result.Record, wide bool) verboseRow {
	if !wide {
		return verboseRow{verdict: r.Verdict, cells: []string{
			safetext.Text(string(r.Verdict)),
			nameCell(r),
			hostPort(r.Server, r.ServerPort),
			safetext.Text(string(r.State)),
			frameCell(r.File, r.FirstFrame),
		}, detail: verboseDetail(r)}
	}
	return verboseRow{verdict: r.Verdict, cells: []string{
		safetext.Text(string(r.Verdict)),
		safetext.Text(r.Type),
		safetext.Text(r.Proto),
		hostPort(r.Client, r.ClientPort),
		hostPort(r.Server, r.ServerPort),
		strconv.Itoa(int(r.Port)),
		safetext.Text(r.Name),
		safetext.Text(string(r.NameSource)),
		safetext.Text(string(r.Transport)),
		safetext.Text(string(r.State)),
		safetext.Text(r.History),
		frameCell(r.File, r.FirstFrame),
		safetext.Text(r.Rule),
		detail(r),
	}}
}

// verboseDetail is the narrow layout's second line of a record: what the wide layout's other columns say.
func verboseDetail(r *result.Record) string {
	parts := []string{strings.TrimSpace(safetext.Text(r.Proto)+" "+safetext.Text(string(r.Transport))) +
		" from " + hostPort(r.Client, r.ClientPort)}
	if r.NameSource != "" {
		parts = append(parts, "name by "+safetext.Text(string(r.NameSource)))
	}
	if r.History != "" {
		parts = append(parts, "history "+safetext.Text(r.History))
	}
	if r.Rule != "" {
		parts = append(parts, "rule "+safetext.Text(r.Rule))
	}
	if d := detail(r); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, "; ")
}

// renderVerbose writes every record, in the order they arrived.
func (t *textWriter) renderVerbose(b *bytes.Buffer) {
	if !t.opts.Verbose {
		return
	}
	b.WriteString("\nAll records\n")
	if len(t.verbose) == 0 {
		b.WriteString("  none\n")
		return
	}
	tb := table{indent: "  "}
	if t.opts.Wide {
		tb.add("", "VERDICT", "TYPE", "PROTO", "CLIENT", "SERVER", "PORT", "NAME", "SOURCE", "TRANSPORT", "STATE",
			"HISTORY", "FRAME", "RULE", "DETAIL")
	} else {
		tb.add("", "VERDICT", "NAME", "SERVER", "STATE", "FRAME")
	}
	for _, row := range t.verbose {
		tb.add(t.verdictColor(row.verdict), row.cells...)
		if row.detail != "" {
			tb.below(row.detail)
		}
	}
	tb.render(b, t.opts.Color)
}

// verdictColor is red for a failure, green for allowed, yellow for any other problem.
func (t *textWriter) verdictColor(v rules.Verdict) string {
	switch {
	case t.isFail(v):
		return colorRed
	case v == rules.Allowed:
		return colorGreen
	case v.Failure(), v == rules.PortNotAllowed:
		return colorYellow
	}
	return ""
}

// rareQualityRows are the counters of rare or hostile conditions that are not zero: the text and HTML
// reports list them after the counters they always show.
func rareQualityRows(q *result.Quality) []qualityRow {
	var out []qualityRow
	for _, row := range []qualityRow{
		{"time jumps", q.TimeJumps, "lone far-future timestamps; they expired nothing"},
		{"fragments dropped", q.FragmentsDropped, "incomplete IPv4 datagrams lost; names may be missing"},
		{"overlap conflicts", q.OverlapConflicts, "retransmissions with other bytes; first copy kept"},
		{"stream gaps over cap", q.StreamGapsOverCap, "first bytes in too many pieces; names may be missing"},
		{"DNS false counts", q.DNSFalseCounts, "answers holding fewer records than their header says"},
		{"DNS names evicted", q.DNSNamesEvicted, "forgotten under the DNS cache caps; names may be missing"},
	} {
		if row.N != 0 {
			out = append(out, row)
		}
	}
	return out
}
