package regress

// The suites a case belongs to, in the order reports list them.
const (
	SuiteRequirements = "requirements"
	SuiteNames        = "names"
	SuiteVerdicts     = "verdicts"
	SuiteUnlisted     = "unlisted"
	SuiteBaseline     = "baseline"
)

// suiteOrder is the order of suites in every report.
var suiteOrder = []string{SuiteRequirements, SuiteNames, SuiteVerdicts, SuiteUnlisted, SuiteBaseline}

// Case is one checked expectation, or one requirement compared with a baseline: a JUnit test case.
type Case struct {
	Suite    string     `json:"suite"`
	Name     string     `json:"name"`
	File     string     `json:"file,omitempty"` // where the expectation was written
	Line     int        `json:"line,omitempty"`
	Expected string     `json:"expected"`
	Actual   string     `json:"actual"`
	Pass     bool       `json:"pass"`
	Note     string     `json:"note,omitempty"` // the expectation's own note
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Source is "file:line", or "" for cases that no file line stands behind (baseline comparisons).
func (c *Case) Source() string {
	if c.File == "" {
		return ""
	}
	if c.Line == 0 {
		return c.File
	}
	return c.File + ":" + itoa(c.Line)
}

// Message is the one-line reason a case failed (or what it checked, when it passed).
func (c *Case) Message() string {
	return "expected " + c.Expected + ", got " + c.Actual
}

// Change is one difference from a baseline, worse or better; only worse changes fail the check.
type Change struct {
	Kind     string     `json:"kind"`               // "requirement", "failing-name" or "unlisted-name"
	Subject  string     `json:"subject"`            // rule key or name
	Detail   string     `json:"detail,omitempty"`   // a requirement's pattern and purpose
	Before   string     `json:"before"`             // status, or verdict counts, in the baseline
	After    string     `json:"after"`              // the same now
	Worse    bool       `json:"worse"`              //
	Evidence []Evidence `json:"evidence,omitempty"` // for worse changes: what shows it now
}

// Result is a whole check: what was read, every case, the changes from a baseline.
type Result struct {
	Captures     []string `json:"captures"`
	Rules        []string `json:"rules"`
	Expectations string   `json:"expectations,omitempty"`
	Baseline     string   `json:"baseline,omitempty"`
	Cases        []Case   `json:"cases"`
	Changes      []Change `json:"changes,omitempty"`
	Warnings     []string `json:"warnings,omitempty"` // limits of the check itself (names not followed, ...)
	// Inconclusive says why the captures cannot show whether Intune traffic gets through (no Intune traffic in
	// them, too many packets undecodable or lost), each with what to do. A check whose cases all pass is then
	// inconclusive, not passed.
	Inconclusive []string `json:"inconclusive,omitempty"`
}

// The outcomes of a check, as the JSON report spells them; the command exits 0, 1 or 3.
const (
	OutcomePass         = "pass"
	OutcomeFail         = "fail"
	OutcomeInconclusive = "inconclusive"
)

// Outcome is the check's answer: fail when a case failed, inconclusive when every case passed but the captures
// cannot tell, pass otherwise.
func (r *Result) Outcome() string {
	switch {
	case r.Failed() > 0:
		return OutcomeFail
	case len(r.Inconclusive) > 0:
		return OutcomeInconclusive
	}
	return OutcomePass
}

// Failed counts the failing cases.
func (r *Result) Failed() int {
	n := 0
	for i := range r.Cases {
		if !r.Cases[i].Pass {
			n++
		}
	}
	return n
}

// Passed says whether every case passed: the check's exit status.
func (r *Result) Passed() bool { return r.Failed() == 0 }

// bySuite groups the cases in suite order, each suite's cases in the order they were checked.
func (r *Result) bySuite() [][]Case {
	var out [][]Case
	for _, s := range suiteOrder {
		var group []Case
		for _, c := range r.Cases {
			if c.Suite == s {
				group = append(group, c)
			}
		}
		if len(group) > 0 {
			out = append(out, group)
		}
	}
	return out
}

// AddWarnings notes the collector's limits, so a report never looks more complete than it is.
func (r *Result) AddWarnings(c *Collector) {
	if c.Dropped > 0 {
		r.Warnings = append(r.Warnings, itoa(c.Dropped)+" records of blocked, reset or unlisted names were not "+
			"followed: more than "+itoa(maxNames)+" distinct names")
	}
	if c.summary != nil {
		r.Warnings = append(r.Warnings, c.summary.Capture.Warnings...)
	}
}
