package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/metrics"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// liveSink receives the engine's records as verdicts become final: it counts them for the status line and the
// metrics, prints a line per problem at once (text), and hands each to the report writer (jsonl writes it at
// once; text keeps it for the summary printed on exit).
type liveSink struct {
	out      report.Writer
	problems io.Writer // text format: a line per problem as it happens; nil for jsonl
	status   io.Writer // a terminal for the status line; nil when there is none
	metrics  *metrics.Metrics
	failOn   []rules.Verdict

	packets, records, conns, failed, drops uint64
	shown                                  bool // the status line is on screen
	summary                                *result.Summary
}

// Record counts r, reports it if it is a problem, and passes it on.
func (s *liveSink) Record(r *result.Record) error {
	s.records++
	if r.Type == "flow" {
		s.conns++
	}
	fail := slices.Contains(s.failOn, r.Verdict)
	if fail {
		s.failed++
	}
	if s.metrics != nil {
		s.metrics.Record(r)
	}
	if s.problems != nil && isProblem(r, fail) {
		s.clear()
		if _, err := io.WriteString(s.problems, problemLine(r)); err != nil {
			return fmt.Errorf("write problem: %w", err)
		}
	}
	return s.out.Record(r)
}

// Summary passes the summary on, after taking the status line off the screen.
func (s *liveSink) Summary(sum *result.Summary) error {
	s.clear()
	s.summary = sum
	return s.out.Summary(sum)
}

// isProblem says whether the text output shows r as it happens: what --fail-on counts, what the network
// stopped or the rules do not allow, and warnings (as report's problem sections do).
func isProblem(r *result.Record, fail bool) bool {
	switch r.Verdict {
	case rules.Blocked, rules.Reset, rules.Intercepted, rules.PortNotAllowed:
		return true
	}
	return fail || r.Warning != ""
}

// problemLine is one record as a line: time, verdict, endpoints, name, what happened. Strings from packets go
// through safetext.Text so that a crafted name cannot drive the terminal.
func problemLine(r *result.Record) string {
	var b strings.Builder
	clock := r.Start
	if t, err := time.Parse(time.RFC3339Nano, r.Start); err == nil {
		clock = t.Local().Format("15:04:05")
	}
	fmt.Fprintf(&b, "%s %-16s %s %s -> %s", clock, r.Verdict, r.Proto, hostPort(r.Client, r.ClientPort),
		hostPort(r.Server, r.ServerPort))
	if r.Name != "" {
		fmt.Fprintf(&b, " %s (%s)", safetext.Text(r.Name), r.NameSource)
	}
	if r.Type == "dns" && r.QType != "" {
		fmt.Fprintf(&b, " %s", r.QType)
	}
	b.WriteString(" " + string(r.State))
	if r.Stage != "" {
		b.WriteString(" " + string(r.Stage))
	}
	if r.Rule != "" {
		b.WriteString(" rule " + safetext.Text(r.Rule))
	}
	if text := r.Reason; text != "" || r.Warning != "" {
		if text == "" {
			text = r.Warning
		}
		b.WriteString(": " + safetext.Text(text))
	}
	b.WriteByte('\n')
	return b.String()
}

// hostPort writes addr:port, bracketing IPv6 addresses.
func hostPort(addr string, port uint16) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// refresh redraws the status line in place.
func (s *liveSink) refresh() {
	if s.status == nil {
		return
	}
	fmt.Fprintf(s.status, "\r\x1b[K%d packets, %d connections, %d records, %d failing, %d dropped",
		s.packets, s.conns, s.records, s.failed, s.drops)
	s.shown = true
}

// clear takes the status line off the screen before other output.
func (s *liveSink) clear() {
	if s.status != nil && s.shown {
		io.WriteString(s.status, "\r\x1b[K")
		s.shown = false
	}
}
