package regress

import (
	"encoding/json"
	"fmt"
	"io"
)

// Formats lists the report formats --report accepts.
func Formats() []string { return []string{"junit", "json", "markdown", "text"} }

// Write writes the result in one of Formats.
func Write(format string, w io.Writer, r *Result) error {
	switch format {
	case "junit":
		return WriteJUnit(w, r)
	case "json":
		return WriteJSON(w, r)
	case "markdown":
		return WriteMarkdown(w, r)
	case "text":
		return WriteText(w, r, false)
	}
	return fmt.Errorf("unknown report format %q (want junit, json, markdown or text)", format)
}

// jsonReport is the JSON report: the result with its totals first, so a script can read pass/fail at once.
type jsonReport struct {
	Passed  bool   `json:"passed"`
	Outcome string `json:"outcome"` // pass, fail or inconclusive (passed is false when inconclusive)
	Total   int    `json:"total"`
	Failed  int    `json:"failed"`
	*Result
}

// WriteJSON writes the result as one indented JSON document.
func WriteJSON(w io.Writer, r *Result) error {
	out := jsonReport{Passed: r.Outcome() == OutcomePass, Outcome: r.Outcome(), Total: len(r.Cases), Failed: r.Failed(), Result: normalized(r)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// normalized returns a copy whose lists are empty rather than null in JSON.
func normalized(r *Result) *Result {
	c := *r
	if c.Captures == nil {
		c.Captures = []string{}
	}
	if c.Rules == nil {
		c.Rules = []string{}
	}
	if c.Cases == nil {
		c.Cases = []Case{}
	}
	return &c
}
