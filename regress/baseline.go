package regress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// BaselineFormat and BaselineVersion identify a baseline file, so check refuses a file that is something else.
const (
	BaselineFormat  = "intunecap-baseline"
	BaselineVersion = 1
)

// Baseline is what a known-good capture showed, kept so that a later capture can be compared with it. It
// holds no time of the run and only sorted lists: the same captures and rules give the same bytes.
type Baseline struct {
	Format        string         `json:"format"`
	Version       int            `json:"version"`
	Rules         []string       `json:"rules"`    // the --rules specs; rule keys only mean something with them
	Captures      []string       `json:"captures"` // file names (without directories), sorted
	Requirements  []BaselineRule `json:"requirements"`
	Verdicts      map[string]int `json:"verdicts"`
	FailingNames  []BaselineName `json:"failing_names"`  // names with a blocked or reset record, sorted
	UnlistedNames []BaselineName `json:"unlisted_names"` // names reported unlisted, sorted
	Incomplete    bool           `json:"incomplete,omitempty"`
}

// BaselineRule is one requirement row's status in the baseline.
type BaselineRule struct {
	Key      string         `json:"key"`
	Pattern  string         `json:"pattern,omitempty"`
	Purpose  string         `json:"purpose,omitempty"`
	Status   string         `json:"status"`
	Verdicts map[string]int `json:"verdicts,omitempty"`
}

// BaselineName is a problem name with its verdict counts.
type BaselineName struct {
	Name     string         `json:"name"`
	Verdicts map[string]int `json:"verdicts"`
}

// NewBaseline builds the baseline of a finished collection. ruleSpecs are the --rules values used.
func NewBaseline(c *Collector, ruleSpecs, captures []string) *Baseline {
	b := &Baseline{
		Format: BaselineFormat, Version: BaselineVersion, Rules: slices.Clone(ruleSpecs),
		Captures: baseNames(captures), Verdicts: map[string]int{}, Requirements: []BaselineRule{},
		Incomplete: c.Dropped > 0,
	}
	if b.Rules == nil {
		b.Rules = []string{}
	}
	if c.summary != nil {
		for _, rs := range c.summary.Rules {
			br := BaselineRule{Key: rs.Key, Pattern: rs.Pattern, Purpose: rs.Purpose, Status: rs.Status}
			if t := c.rows[rs.Key]; t != nil {
				br.Verdicts = t.counts.asMap()
			}
			b.Requirements = append(b.Requirements, br)
		}
	}
	for i := range c.verdicts {
		if n := c.verdicts[i].counts[i]; n > 0 {
			b.Verdicts[string(verdictAt(i))] = n
		}
	}
	b.FailingNames = nameList(c.failing)
	b.UnlistedNames = nameList(c.unlisted)
	return b
}

func baseNames(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	slices.Sort(out)
	return out
}

func nameList(m map[string]*tally) []BaselineName {
	out := make([]BaselineName, 0, len(m))
	for name, t := range m {
		out = append(out, BaselineName{Name: name, Verdicts: t.counts.asMap()})
	}
	slices.SortFunc(out, func(a, b BaselineName) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Encode writes the baseline as indented JSON with a final newline; encoding/json sorts map keys.
func (b *Baseline) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// ReadBaseline reads a baseline file written by Encode.
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	b, err := DecodeBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", path, err)
	}
	return b, nil
}

// DecodeBaseline parses a baseline strictly: unknown fields, a foreign format or a newer version are errors.
func DecodeBaseline(data []byte) (*Baseline, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Baseline
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("not a baseline: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a baseline: data after the JSON object")
	}
	if b.Format != BaselineFormat {
		return nil, fmt.Errorf("not a baseline: format %q (expected %q, written by intunecap baseline)", b.Format, BaselineFormat)
	}
	if b.Version != BaselineVersion {
		return nil, fmt.Errorf("baseline version %d not supported (expected %d)", b.Version, BaselineVersion)
	}
	return &b, nil
}
