package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/intunecap/intunecap/probe"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// writeProbeReport writes the probes and the usual report: text puts the probe section before the report;
// jsonl writes a "probe" or "not-probeable" line per probe and row left out, then the report's records and
// summary; json adds "probes" and "not_probeable" to the report's document. The report's records are the
// probes' (each the capture's record of its connection, or one built from its socket) and the capture's
// other records; its summary is built from the probes, with the capture's facts.
func writeProbeReport(f *probeFlags, s *probeSetup, results []probe.Result, others []result.Record, wire wireEvidence,
	stdout io.Writer) error {
	skipped := probe.NotProbeableOf(s.skipped)
	records := make([]result.Record, 0, len(results)+len(others))
	for i := range results {
		records = append(records, results[i].Record())
	}
	records = append(records, others...)
	summary := probeSummary(s.table, results, records, s.failOn, wire)
	out := bufio.NewWriterSize(stdout, 64<<10)
	var err error
	switch f.format {
	case "text":
		err = probe.WriteText(out, results, skipped, wire.note)
		if err == nil {
			err = writeAnalysis(f, s, out, records, summary)
		}
	case "jsonl":
		err = writeProbeJSONL(out, results, skipped)
		if err == nil {
			err = writeAnalysis(f, s, out, records, summary)
		}
	case "json":
		err = writeProbeJSON(f, s, out, results, skipped, records, summary)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// writeAnalysis feeds the capture's records and the summary to the report writer analyze uses.
func writeAnalysis(f *probeFlags, s *probeSetup, w io.Writer, records []result.Record, summary *result.Summary) error {
	rw, err := report.New(f.format, w, report.Options{Color: useColor(f.color, w), FailOn: s.failOn})
	if err != nil {
		return err
	}
	for i := range records {
		if err := rw.Record(&records[i]); err != nil {
			return err
		}
	}
	if err := rw.Summary(summary); err != nil {
		return err
	}
	return rw.Close()
}

func writeProbeJSONL(w io.Writer, results []probe.Result, skipped []probe.NotProbeable) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range results {
		if err := enc.Encode(&results[i]); err != nil {
			return fmt.Errorf("write probe: %w", err)
		}
	}
	for i := range skipped {
		if err := enc.Encode(&skipped[i]); err != nil {
			return fmt.Errorf("write probe: %w", err)
		}
	}
	return nil
}

// writeProbeJSON writes one document: the analysis writer's records and summary, with the probes beside.
func writeProbeJSON(f *probeFlags, s *probeSetup, w io.Writer, results []probe.Result, skipped []probe.NotProbeable,
	records []result.Record, summary *result.Summary) error {
	var buf bytes.Buffer
	if err := writeAnalysis(f, s, &buf, records, summary); err != nil {
		return err
	}
	var doc struct {
		Records json.RawMessage `json:"records"`
		Summary json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if results == nil {
		results = []probe.Result{}
	}
	if skipped == nil {
		skipped = []probe.NotProbeable{}
	}
	full := struct {
		Probes       []probe.Result       `json:"probes"`
		NotProbeable []probe.NotProbeable `json:"not_probeable"`
		Records      json.RawMessage      `json:"records"`
		Summary      json.RawMessage      `json:"summary"`
	}{results, skipped, doc.Records, doc.Summary}
	b, err := json.MarshalIndent(&full, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// probeSummary is the per-requirement summary of a probe run: a row is failing when one of its probes
// failed, ok when all passed, not-seen when none tested it (the not-probeable records say why). Verdict
// counts and failures come from the report's records; the capture facts from the capture's analysis, or a
// warning that there was none.
func probeSummary(t *rules.Table, results []probe.Result, records []result.Record, failOn []rules.Verdict,
	wire wireEvidence) *result.Summary {
	type agg struct {
		verdicts map[string]int
		names    []string
		failed   bool
	}
	byKey := map[string]*agg{}
	s := &result.Summary{Type: "summary", Verdicts: map[string]int{}}
	for i := range records {
		s.Verdicts[string(records[i].Verdict)]++
		if slices.Contains(failOn, records[i].Verdict) {
			s.Failing++
		}
	}
	for i := range results {
		r := &results[i]
		if r.Failed && !slices.Contains(failOn, r.Verdict) {
			s.Failing++ // intercepted: allowed by the network, failed by the probe
		}
		for _, k := range r.RuleKeys {
			a := byKey[k]
			if a == nil {
				a = &agg{verdicts: map[string]int{}}
				byKey[k] = a
			}
			a.verdicts[string(r.Verdict)]++
			a.failed = a.failed || r.Failed
			if !slices.Contains(a.names, r.Name) {
				a.names = append(a.names, r.Name)
			}
		}
	}
	for _, r := range t.Rules {
		rs := result.RuleSummary{Key: r.Key(), Table: r.Table, Row: r.Row, ID: r.ID, Purpose: r.Purpose,
			Pattern: r.Target(), Ports: r.PortsString(), Status: "not-seen"}
		if a := byKey[r.Key()]; a != nil {
			rs.Status, rs.Verdicts, rs.Names = "ok", a.verdicts, a.names
			if a.failed {
				rs.Status = "failing"
			}
			slices.Sort(rs.Names)
		}
		s.Rules = append(s.Rules, rs)
	}
	if wire.summary != nil {
		s.Capture, s.Unlisted = wire.summary.Capture, wire.summary.Unlisted
	}
	if wire.note != "" {
		s.Capture.Warnings = append(slices.Clone(s.Capture.Warnings), wire.note)
	}
	return s
}
