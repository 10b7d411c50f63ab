package rules

import (
	"fmt"
	"strings"
)

// Verdict is the vocabulary of the whole tool: every connection and DNS exchange ends in exactly one, so
// reports, filters (--fail-on) and golden files all speak the same words.
type Verdict string

// The seven verdicts. Allowed, PortNotAllowed, Unlisted and Other come from the rules alone (see
// Matcher.Judge); Blocked and Reset are what the analysis engine says when the network stopped a connection,
// Intercepted when something on the way answered a listed name's TLS with a certificate of its own (a chain
// that does not verify to a public root, or is not for the name).
const (
	Allowed        Verdict = "allowed"
	Blocked        Verdict = "blocked"
	Reset          Verdict = "reset"
	Intercepted    Verdict = "intercepted"
	PortNotAllowed Verdict = "port-not-allowed"
	Unlisted       Verdict = "unlisted"
	Other          Verdict = "other"
)

// Verdicts lists every verdict in report order, so help texts and summaries need not repeat the list.
func Verdicts() []Verdict {
	return []Verdict{Allowed, Blocked, Reset, Intercepted, PortNotAllowed, Unlisted, Other}
}

// DefaultFailOn is the default --fail-on: the verdicts that say the network stopped or tampered with a
// connection to a listed name.
func DefaultFailOn() []Verdict { return []Verdict{Blocked, Reset, Intercepted} }

// Failure reports whether v says the network stopped a connection or exchange (blocked, reset) or answered it
// in the server's place (intercepted), as opposed to what the rules alone say of its name and port.
func (v Verdict) Failure() bool { return v == Blocked || v == Reset || v == Intercepted }

// ParseVerdicts reads a comma-separated list from the command line ("blocked,reset"); an unknown word is an
// error that names it and the accepted words, so a typo in --fail-on never silently disables a check.
func ParseVerdicts(list string) ([]Verdict, error) {
	var out []Verdict
	for _, word := range strings.Split(list, ",") {
		word = strings.ToLower(strings.TrimSpace(word))
		if word == "" {
			continue
		}
		v, ok := verdictByName(word)
		if !ok {
			return nil, fmt.Errorf("unknown verdict %q (expected one of %s)", word, verdictNames())
		}
		if !containsVerdict(out, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty verdict list (expected one or more of %s)", verdictNames())
	}
	return out, nil
}

func verdictByName(word string) (Verdict, bool) {
	for _, v := range Verdicts() {
		if string(v) == word {
			return v, true
		}
	}
	return "", false
}

func containsVerdict(list []Verdict, v Verdict) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func verdictNames() string {
	names := make([]string, 0, len(Verdicts()))
	for _, v := range Verdicts() {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}
