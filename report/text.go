package report

import (
	"bytes"
	"cmp"
	"io"
	"slices"

	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// maxExamples bounds the evidence lines kept and shown per requirement or problem group: enough to open a few
// frames in Wireshark, while a flood of failures costs counts, not memory.
const maxExamples = 5

// textWriter gathers what the text report needs while records stream in, and writes the report at Summary
// (or Close): the headline has to come first and depends on every record.
type textWriter struct {
	out      io.Writer
	opts     Options
	lc       lifecycle
	tally    tally
	failing  map[string]*group // failing records tied to a requirement, by rule key
	problems map[string]*group // other problems, by kind (a verdict, or "warning")
	verbose  []verboseRow      // every record, only with Options.Verbose
	tracker  *outcome.Tracker  // failures to unlisted names, settled at the end
	inspect  inspection        // issuers of intercepted chains (text_inspection.go)
	seq      int
}

// tally counts every record, so the headline is exact however many examples were dropped.
type tally struct {
	records, flows, dns int
	matched, matchedDNS int                   // records tied to a requirement, and of those DNS lookups
	failed              map[rules.Verdict]int // records whose verdict is in FailOn
	failedDNS           int                   // of those, DNS lookups
	unruled             int                   // failed records not tied to a requirement
	stopped             map[rules.Verdict]int // blocked or reset records, failing or not (for --fail-on none)
}

// group is one requirement's (or one kind of problem's) evidence: counts for all, a few examples per verdict.
type group struct {
	key     string
	rule    string // pattern, from the first record
	purpose string
	total   int
	counts  map[rules.Verdict]int
	kept    map[rules.Verdict][]example
}

// example is a record kept as evidence, copied because the engine may reuse the one it passed.
type example struct {
	seq int
	r   result.Record
}

func newTextWriter(w io.Writer, opts Options) *textWriter {
	return &textWriter{
		out:      w,
		opts:     opts,
		tally:    tally{failed: map[rules.Verdict]int{}, stopped: map[rules.Verdict]int{}},
		failing:  map[string]*group{},
		problems: map[string]*group{},
		tracker:  outcome.NewTracker(opts.policy()),
	}
}

// Record counts r and keeps it as evidence if its group still has room.
func (t *textWriter) Record(r *result.Record) error {
	if err := t.lc.record(); err != nil {
		return err
	}
	t.seq++
	fail := t.isFail(r.Verdict)
	t.count(r, fail)
	t.tracker.Add(r)
	t.inspect.add(r)
	switch kind := problemKind(r, fail); {
	case fail && r.RuleKey != "":
		t.add(t.failing, r.RuleKey, r)
	case !fail && t.unlistedFailure(r):
		t.add(t.problems, kindUnlistedFailure, r)
	case kind != "":
		t.add(t.problems, kind, r)
	}
	if t.opts.Verbose {
		t.verbose = append(t.verbose, newVerboseRow(r, t.opts.Wide))
	}
	return nil
}

// Summary writes the whole report.
func (t *textWriter) Summary(s *result.Summary) error {
	if err := t.lc.summary(); err != nil {
		return err
	}
	return t.write(s)
}

// Close writes the report if no summary came (an interrupted analysis still shows its evidence).
func (t *textWriter) Close() error {
	if t.lc.closed {
		return nil
	}
	if !t.lc.summarized && t.lc.err == nil {
		t.write(nil)
	}
	t.lc.closed = true
	return t.lc.err
}

// write renders the report into a buffer and writes it out.
func (t *textWriter) write(s *result.Summary) error {
	var b bytes.Buffer // one Write, and no flush: a caller's buffer decides when the report leaves
	t.render(&b, s)
	_, err := t.out.Write(b.Bytes())
	return t.lc.fail("report", err)
}

func (t *textWriter) isFail(v rules.Verdict) bool { return slices.Contains(t.opts.FailOn, v) }

func (t *textWriter) count(r *result.Record, fail bool) {
	t.tally.records++
	if r.Type == "dns" {
		t.tally.dns++
	} else {
		t.tally.flows++
	}
	if r.RuleKey != "" {
		t.tally.matched++
		if r.Type == "dns" {
			t.tally.matchedDNS++
		}
	}
	if r.Verdict.Failure() {
		t.tally.stopped[r.Verdict]++
	}
	if fail {
		t.tally.failed[r.Verdict]++
		if r.Type == "dns" {
			t.tally.failedDNS++
		}
		if r.RuleKey == "" {
			t.tally.unruled++
		}
	}
}

// problemKind says which "other problems" group a record belongs to, or "" if it is not a problem. Failing
// records without a requirement land here too, so nothing that fails goes unshown.
func problemKind(r *result.Record, fail bool) string {
	switch {
	case fail, r.Verdict.Failure(), r.Verdict == rules.PortNotAllowed:
		return string(r.Verdict)
	case r.Warning != "":
		return kindWarning
	}
	return ""
}

// Problem kinds that are not verdicts. kindWarning groups records that are not failures but carry a warning
// (e.g. a refused AAAA beside a good A); kindUnlistedFailure groups connections and lookups to unlisted
// Microsoft names that the network blocked or reset.
const (
	kindWarning         = "warning"
	kindUnlistedFailure = "unlisted-failure"
)

// unlistedFailure says whether r is a failure to an unlisted Microsoft name that counts under --fail-on.
func (t *textWriter) unlistedFailure(r *result.Record) bool {
	f, failed := outcome.FailureOf(r)
	return failed && r.Verdict == rules.Unlisted && t.opts.policy().Fails(f.Verdict)
}

// add counts r in its group and keeps a copy if fewer than maxExamples of its verdict are kept.
func (t *textWriter) add(groups map[string]*group, key string, r *result.Record) {
	g := groups[key]
	if g == nil {
		g = &group{key: key, rule: r.Rule, purpose: r.Purpose,
			counts: map[rules.Verdict]int{}, kept: map[rules.Verdict][]example{}}
		groups[key] = g
	}
	g.total++
	g.counts[r.Verdict]++
	if len(g.kept[r.Verdict]) < maxExamples {
		g.kept[r.Verdict] = append(g.kept[r.Verdict], example{seq: t.seq, r: cloneRecord(r)})
	}
}

// cloneRecord copies r deeply enough that later changes to the caller's slices do not reach it.
func cloneRecord(r *result.Record) result.Record {
	c := *r
	c.VLAN = slices.Clone(r.VLAN)
	c.DNSChain = slices.Clone(r.DNSChain)
	c.Answers = slices.Clone(r.Answers)
	c.CNAMEs = slices.Clone(r.CNAMEs)
	return c
}

// examples picks up to maxExamples of g's kept records, taking verdicts in turn so each kind of failure shows,
// then orders them by file and frame so they read like the capture.
func (g *group) examples() []example {
	var out []example
	verdicts := sortedVerdicts(g.kept)
	for round := 0; len(out) < maxExamples; round++ {
		added := false
		for _, v := range verdicts {
			if kept := g.kept[v]; round < len(kept) && len(out) < maxExamples {
				out = append(out, kept[round])
				added = true
			}
		}
		if !added {
			break
		}
	}
	slices.SortFunc(out, compareExamples)
	return out
}

func compareExamples(a, b example) int {
	switch {
	case a.r.File != b.r.File:
		return cmp.Compare(a.r.File, b.r.File)
	case a.r.FirstFrame != b.r.FirstFrame:
		return cmp.Compare(a.r.FirstFrame, b.r.FirstFrame)
	}
	return a.seq - b.seq
}
