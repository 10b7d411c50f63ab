package outcome

import (
	"maps"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// maxTracked bounds the lookups a Tracker remembers. Past it, failed lookups of unlisted names are counted
// without waiting to see whether the client resolved the name elsewhere.
const maxTracked = 1 << 16

// lookupKey is one client asking for one name.
type lookupKey struct{ client, name string }

// Tracker counts the failures to unlisted Microsoft names while records stream past. A failed lookup of an
// unlisted name is forgiven when the same client resolved the same name elsewhere in the capture, as the engine
// forgives listed names (a refused AAAA beside a good A is not a failure), so it is only settled at the end.
type Tracker struct {
	policy   Policy
	flows    map[rules.Verdict]int // unlisted connections that failed, by the verdict a listed name would get
	pending  map[lookupKey]int     // failed unlisted lookups, by client and name
	resolved map[lookupKey]bool    // unlisted names a client resolved
	overflow int                   // failed lookups counted without the forgiveness check
}

// NewTracker returns a tracker that counts the failures p fails on.
func NewTracker(p Policy) *Tracker {
	return &Tracker{policy: p, flows: map[rules.Verdict]int{}, pending: map[lookupKey]int{},
		resolved: map[lookupKey]bool{}}
}

// Add looks at one record; it keeps nothing of r.
func (t *Tracker) Add(r *result.Record) {
	if r.Verdict != rules.Unlisted || t.policy.Fails(r.Verdict) {
		return // not unlisted, or already a failure by its own verdict (--fail-on unlisted)
	}
	key := lookupKey{r.Client, r.Name}
	f, failed := FailureOf(r)
	switch {
	case r.Type == "dns" && !failed && r.State == "answered":
		if len(t.resolved) < maxTracked {
			t.resolved[key] = true
		}
	case !failed || !t.policy.Fails(f.Verdict):
	case r.Type != "dns":
		t.flows[f.Verdict]++
	case t.pending[key] > 0 || len(t.pending) < maxTracked:
		t.pending[key]++
	default:
		t.overflow++
	}
}

// Forgiven says whether r, a failed lookup of an unlisted name, is not a failure after all: its client
// resolved the name elsewhere. It is only final once every record has been added.
func (t *Tracker) Forgiven(r *result.Record) bool {
	return r.Type == "dns" && t.resolved[lookupKey{r.Client, r.Name}]
}

// Counts is the failures to unlisted names by verdict: failed connections, and failed lookups (blocked) not
// forgiven.
func (t *Tracker) Counts() map[rules.Verdict]int {
	out := maps.Clone(t.flows)
	lookups := t.overflow
	for k, c := range t.pending {
		if !t.resolved[k] {
			lookups += c
		}
	}
	if lookups > 0 {
		out[rules.Blocked] += lookups
	}
	return out
}

// FailingLookups is how many of the failures counted by Failing are DNS lookups.
func (t *Tracker) FailingLookups() int {
	n := t.Failing()
	for _, c := range t.flows {
		n -= c
	}
	return n
}

// Failing is the number of failures to unlisted names.
func (t *Tracker) Failing() int {
	n := 0
	for _, c := range t.Counts() {
		n += c
	}
	return n
}
