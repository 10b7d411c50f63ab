package regress

import (
	"slices"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// Status is the state an expectation demands of a requirement or a name; the words are the summary's own, so
// an expectations file reads like the analyze report it was written from.
type Status string

// The statuses. Requirements take theirs from the analysis summary; names are judged the same way, plus Other.
const (
	StatusOK      Status = "ok"       // seen allowed, nothing blocked or reset
	StatusFailing Status = "failing"  // some connection or lookup blocked or reset
	StatusNotSeen Status = "not-seen" // no allowed, blocked or reset record (for a name: no record at all)
	StatusOther   Status = "other"    // names only: seen, but only as port-not-allowed, unlisted or other
	StatusAny     Status = "any"      // anything goes: the entry documents a name or pins its verdicts only
)

// Pos is where an expectation was written, so every failure and error can point at its line.
type Pos struct {
	Line, Col int
}

// Expectations is a parsed expectations file: what a capture must show for the check to pass.
type Expectations struct {
	File          string         // path as given, for messages
	Rules         []string       // --rules specs the file was written against; empty means the command line's
	RulesAt       Pos            // where rules was given
	Requirements  []Requirement  // by rule key, id or pattern
	Names         []NameExpect   // by exact name
	Max           []VerdictMax   // ceilings on the number of records per verdict
	NeverUnlisted []UnlistedName // names or patterns that must never be reported unlisted
}

// Requirement expects a status of one or more rows of the requirements table.
type Requirement struct {
	At       Pos
	By       string          // "rule" (table:row key), "id" or "pattern"
	Ref      string          // the key, id or pattern as written (a pattern in lower-case ASCII)
	Status   []Status        // the status must be one of these
	Verdicts []rules.Verdict // if set, exactly these verdicts must have been seen (sorted)
	Note     string          // why the entry is there, shown beside a failure
	Keys     []string        // the rows Ref names, in table order; filled by Resolve
}

// NameExpect expects a status of every record that carries one name.
type NameExpect struct {
	At       Pos
	Name     string // lower-case ASCII
	Status   []Status
	Verdicts []rules.Verdict
	Note     string
}

// VerdictMax caps how many records may have one verdict: a blocked count that must stay zero, say.
type VerdictMax struct {
	At      Pos
	Verdict rules.Verdict
	Max     int
}

// UnlistedName is a name or pattern ("*.x": strictly below x; "*x": text ending in x; "x": x only) that must
// never appear among the unlisted names: traffic the team knows about and expects a rule for.
type UnlistedName struct {
	At      Pos
	Pattern string // lower-case ASCII, as written otherwise
}

// Matches says whether name falls under the pattern, with the same three forms rule files use.
func (u UnlistedName) Matches(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case strings.HasPrefix(u.Pattern, "*."):
		suffix := u.Pattern[1:]
		return len(name) > len(suffix) && strings.HasSuffix(name, suffix)
	case strings.HasPrefix(u.Pattern, "*"):
		return strings.HasSuffix(name, u.Pattern[1:])
	}
	return name == u.Pattern
}

// TrackedNames lists the names the collector must follow for this file's name expectations.
func (e *Expectations) TrackedNames() []string {
	out := make([]string, 0, len(e.Names))
	for _, n := range e.Names {
		out = append(out, n.Name)
	}
	return out
}

// source renders where an expectation was written ("expect.yaml:12").
func (e *Expectations) source(at Pos) string {
	if at.Line == 0 {
		return e.File
	}
	return e.File + ":" + strconv.Itoa(at.Line)
}

// statusAllows says whether got satisfies the expected list; no list (only verdicts were given) allows any.
func statusAllows(want []Status, got Status) bool {
	return len(want) == 0 || slices.Contains(want, StatusAny) || slices.Contains(want, got)
}

// statusWords renders a list of statuses for messages: "ok or not-seen".
func statusWords(list []Status) string {
	words := make([]string, len(list))
	for i, s := range list {
		words[i] = string(s)
	}
	return strings.Join(words, " or ")
}
