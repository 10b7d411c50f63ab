// Package report turns an analysis into what people and programs read: a text report for the admin who ran the
// capture, JSON Lines for pipelines and live mode, and one JSON document for tools that want the whole thing.
//
// Every writer is an result.Sink: the engine hands it each record as soon as the verdict is final, then the
// summary once. Output depends on that input alone (no wall clock, maps sorted), so the same capture gives
// byte-identical reports. Strings that came from packets are untrusted: the text writer passes each through
// safetext.Text before it reaches a terminal, and the JSON writers rely on JSON's own escaping.
package report

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Options carries what the command line decides and the writers cannot know themselves.
type Options struct {
	// Color turns on ANSI colour in the text report. The caller decides: a terminal, and NO_COLOR unset.
	Color bool
	// FailOn lists the verdicts that count as failures, so the text report highlights exactly what makes the
	// command exit 1. Nil means the command's default, blocked and reset; an empty non-nil slice means none.
	FailOn []rules.Verdict
	// Verbose makes the text report list every record, not only the problems. It keeps one line per record in
	// memory until the end, so leave it off for long live captures.
	Verbose bool
	// Wide keeps every record of the text report on one line, however long, for grep; otherwise the report fits
	// 100 columns and a record's detail goes on an indented line of its own.
	Wide bool
	// AllowEmpty makes a capture with no Intune traffic pass instead of being inconclusive (outcome.Policy).
	AllowEmpty bool
}

// policy is the outcome policy the options describe.
func (o *Options) policy() outcome.Policy {
	return outcome.Policy{FailOn: o.FailOn, AllowEmpty: o.AllowEmpty}
}

// Writer is a report being written: the engine feeds it as an result.Sink, and the caller closes it to flush
// what is buffered. Close is safe to call twice; calls after Close fail.
type Writer interface {
	result.Sink
	Close() error
}

// Errors a writer returns when it is driven out of order, so a caller's bug shows instead of a truncated report.
var (
	ErrClosed       = errors.New("report writer is closed")
	ErrAfterSummary = errors.New("record after summary")
	ErrSummaryTwice = errors.New("summary written twice")
)

// formatList is how an error names the accepted formats.
const formatList = "text, jsonl, json or html"

// defaultFailOn is what the command treats as failing when --fail-on is not given.
func defaultFailOn() []rules.Verdict { return rules.DefaultFailOn() }

// Formats lists the names New accepts, for --help and flag validation.
func Formats() []string { return []string{"text", "jsonl", "json", "html"} }

// New returns the writer for format ("text", "jsonl", "json" or "html") writing to w. The text, json and html
// writers see the summary with its devices filled from the records (withDevices).
func New(format string, w io.Writer, opts Options) (Writer, error) {
	if w == nil {
		return nil, errors.New("new report: nil writer")
	}
	if opts.FailOn == nil {
		opts.FailOn = defaultFailOn()
	} else {
		opts.FailOn = slices.Clone(opts.FailOn)
	}
	switch format {
	case "text":
		return withDevices(newTextWriter(w, opts), opts.FailOn), nil
	case "jsonl":
		return newJSONLWriter(w), nil
	case "json":
		return withDevices(newJSONWriter(w), opts.FailOn), nil
	case "html":
		return withDevices(newHTMLWriter(w, opts), opts.FailOn), nil
	}
	return nil, fmt.Errorf("new report: unknown format %q (want %s)", format, formatList)
}

// lifecycle enforces the Sink order every writer shares: records, one summary, close.
type lifecycle struct {
	summarized bool
	closed     bool
	err        error // first write error; every later call returns it
}

// record checks that a record may still be written.
func (l *lifecycle) record() error {
	switch {
	case l.closed:
		return ErrClosed
	case l.err != nil:
		return l.err
	case l.summarized:
		return ErrAfterSummary
	}
	return nil
}

// summary checks that the summary may be written and marks it written.
func (l *lifecycle) summary() error {
	if err := l.record(); err != nil {
		if errors.Is(err, ErrAfterSummary) {
			return ErrSummaryTwice
		}
		return err
	}
	l.summarized = true
	return nil
}

// fail remembers the first write error, wrapped with what was being written.
func (l *lifecycle) fail(what string, err error) error {
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("write %s: %w", what, err)
	}
	return l.err
}

// normalizeSummary returns a shallow copy whose always-present fields are empty rather than null in JSON, and
// whose type is "summary", so consumers can iterate without checking for null.
func normalizeSummary(s *result.Summary) result.Summary {
	c := *s
	c.Type = "summary"
	if c.Rules == nil {
		c.Rules = []result.RuleSummary{}
	}
	if c.Verdicts == nil {
		c.Verdicts = map[string]int{}
	}
	if c.Unlisted == nil {
		c.Unlisted = []result.NameCount{}
	}
	if c.Capture.Files == nil {
		c.Capture.Files = []string{}
	}
	if c.Capture.LinkTypes == nil {
		c.Capture.LinkTypes = []string{}
	}
	return c
}
