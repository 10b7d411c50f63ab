package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// pipeline is one offline analysis: capture files in, records and a summary out to a sink. analyze, check and
// baseline all run it; only what they do with the records differs.
type pipeline struct {
	Reader  *capture.Reader // opened by the caller first, so a bad file fails before any output is written
	Paths   []string        // the files Reader reads, as the user named them
	Table   *rules.Table    // merged requirement tables
	FailOn  []rules.Verdict // counted in the summary's Failing
	Sink    result.Sink     // receives every record, then the summary
	Stderr  io.Writer       // input warnings, one line each
	Prefix  string          // "intunecap analyze" etc., for warnings
	Workers int             // engines in parallel; the output is the same for any number
	Limits  analyze.Options // memory caps (MaxConnections, MaxDNSNames); other fields are ignored
	// Verifier classifies TLS certificate chains (loadVerifier: public roots and --trust); nil: public roots.
	Verifier *certchain.Verifier
	// Source, if set, reads Reader's frames for the run (through a progress display, say); by default the
	// run reads analyze.Files(Reader).
	Source func(*capture.Reader) analyze.Source
}

// run reads every file and feeds the sink. It returns the summary, or an error when the input could not be
// read at all (no packet read, and a warning saying why) or the sink failed.
func (p *pipeline) run() (*result.Summary, error) {
	reader := p.Reader
	keep := &summaryKeeper{Sink: p.Sink}
	src := analyze.Files(reader)
	if p.Source != nil {
		src = p.Source(reader)
	}
	var facts result.CaptureFacts
	opts := analyze.Options{Matcher: rules.NewMatcher(p.Table), FailOn: p.FailOn, Files: p.Paths, Workers: p.Workers,
		MaxConnections: p.Limits.MaxConnections, MaxDNSNames: p.Limits.MaxDNSNames, Verifier: p.Verifier}
	err := analyze.Run(src, opts, keep, analyze.Hooks{Facts: func() result.CaptureFacts {
		facts = analyze.FactsFrom(reader)
		for _, warn := range facts.Warnings {
			fmt.Fprintf(p.Stderr, "%s: warning: %s\n", p.Prefix, warn)
		}
		return facts
	}})
	if err != nil {
		return nil, err
	}
	if reader.Stats().Frames == 0 && len(facts.Warnings) > 0 {
		return nil, errors.New("no packet could be read")
	}
	return keep.summary, nil
}

// summaryKeeper passes records on and keeps the summary.
type summaryKeeper struct {
	result.Sink
	summary *result.Summary
}

func (k *summaryKeeper) Summary(s *result.Summary) error {
	k.summary = s
	return k.Sink.Summary(s)
}
