package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/intunecap/intunecap/rules"
)

// status is a requirement row's state in live mode, the label value of intunecap_requirement_status.
type status int

const (
	ok status = iota
	failing
	notSeen

	unset status = -1 // a row whose series are not written yet
)

// statusNames are the label values, indexed by status.
var statusNames = [...]string{ok: "ok", failing: "failing", notSeen: "not-seen"}

// rowStatus is one row's status with its three 1/0 series.
type rowStatus struct {
	now    status
	gauges [len(statusNames)]prometheus.Gauge
}

// set moves the row to s, flipping its series only when the status changes.
func (r *rowStatus) set(s status) {
	if s == r.now {
		return
	}
	for i, g := range r.gauges {
		if status(i) == s {
			g.Set(1)
		} else {
			g.Set(0)
		}
	}
	r.now = s
}

// update applies a record's verdict to the row: its latest telling verdict decides, so a row recovers once
// the network lets it through again (the summary of a finished capture counts any failure instead).
func (r *rowStatus) update(v rules.Verdict) {
	if s, telling := verdictStatus(v); telling {
		r.set(s)
	}
}

// verdictStatus says what a verdict means for its row. Allowed is ok. Port-not-allowed, unlisted and other come
// from the rules alone and say nothing about whether the network lets the row through, so they leave the
// status as it was. Every other verdict (blocked, reset, intercepted, and any the engine gains later) means
// the network stopped or tampered with the connection: failing. A verdict this package does not know counts as
// failing on purpose, so that a new way to fail never looks healthy.
func verdictStatus(v rules.Verdict) (s status, telling bool) {
	switch v {
	case rules.Allowed:
		return ok, true
	case rules.PortNotAllowed, rules.Unlisted, rules.Other:
		return notSeen, false
	default:
		return failing, true
	}
}
