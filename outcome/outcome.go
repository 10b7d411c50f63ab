// Package outcome gives a run its one answer: PASS, FAIL or INCONCLUSIVE. Every report writer and every command
// asks Decide, so the headline, the JSON summary, the CI check and the exit status never disagree.
//
// A run fails when the network stopped traffic a device needs: a record in --fail-on tied to a requirement, or
// a blocked or reset connection to an unlisted Microsoft name. It is inconclusive when the capture cannot say:
// no Intune traffic in it, more than a small share of its packets undecodable or lost, or fragmented datagrams
// dropped before they could be reassembled. Otherwise it passes.
package outcome

import (
	"fmt"
	"slices"
	"strings"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Outcome is a run's answer.
type Outcome string

// The three outcomes, spelled as the JSON summary's "outcome" field.
const (
	Pass         Outcome = "pass"
	Fail         Outcome = "fail"
	Inconclusive Outcome = "inconclusive"
)

// ExitCode is the process exit status for o: 0 pass, 1 fail, 3 inconclusive (2 is for usage and input errors).
func (o Outcome) ExitCode() int {
	switch o {
	case Pass:
		return 0
	case Fail:
		return 1
	}
	return 3
}

// Word is o in capitals, as the headline says it.
func (o Outcome) Word() string { return strings.ToUpper(string(o)) }

// Limits on what a capture may lack before a run without failures is inconclusive.
const (
	// MaxDropShare is the share of packets the capturing interface may lose.
	MaxDropShare = 0.05
	// MaxUndecodableShare is the share of packets that may be undecodable. The counter includes frames that
	// are simply not IP (ARP, LLDP, spanning tree), a few per cent of a quiet LAN, so the bar is higher than
	// for drops; a wrong link type (macOS PKTAP, radiotap) makes it all of them.
	MaxUndecodableShare = 0.20
	// MinLost is the fewest undecodable or dropped packets that make a capture inconclusive, so that the two
	// ARP frames of a 20-packet capture do not.
	MinLost = 10
)

// Policy is what the command line says about judging.
type Policy struct {
	// FailOn lists the verdicts that fail the run; nil means rules.DefaultFailOn (blocked, reset, intercepted),
	// an empty slice none.
	FailOn []rules.Verdict
	// AllowEmpty makes a capture with no Intune traffic pass instead of being inconclusive.
	AllowEmpty bool
}

// Fails says whether verdict v fails the run under p.
func (p Policy) Fails(v rules.Verdict) bool {
	if p.FailOn == nil {
		return v.Failure()
	}
	return slices.Contains(p.FailOn, v)
}

// Decision is the outcome with the reasons that limit it: why it is inconclusive, or, for a failing run, what
// else the reader should know about the capture.
type Decision struct {
	Outcome Outcome
	Reasons []string
}

// Decide judges a summary: fail when s.Failing or s.UnlistedFailing is above zero, or a proxy requirement fails
// while blocked is a failing verdict (a proxy that refuses or wants credentials blocks Intune's clients), inconclusive when the capture
// saw no Intune traffic (unless p.AllowEmpty) or lost too much, pass otherwise. A failure seen is evidence even
// in a poor capture, so failing wins over inconclusive; the reasons are kept either way.
func Decide(s *result.Summary, p Policy) Decision {
	reasons := captureReasons(&s.Capture)
	if !p.AllowEmpty && !IntuneSeen(s) && s.Capture.Packets > 0 {
		reasons = append(reasons, emptyReason(s))
	}
	switch {
	case s.Failing+s.UnlistedFailing > 0, s.ProxyFailing > 0 && p.Fails(rules.Blocked):
		return Decision{Fail, reasons}
	case len(reasons) > 0:
		return Decision{Inconclusive, reasons}
	}
	return Decision{Pass, nil}
}

// Fill writes the decision into s's Outcome fields.
func Fill(s *result.Summary, p Policy) Decision {
	d := Decide(s, p)
	s.Outcome, s.OutcomeReasons = string(d.Outcome), slices.Clone(d.Reasons)
	return d
}

// IntuneSeen says whether any record was tied to a requirement row (any verdict, port-not-allowed included).
func IntuneSeen(s *result.Summary) bool {
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.Table == "proxy" { // a proxy's own requirement, not Intune traffic
			continue
		}
		if r.Status != "" && r.Status != "not-seen" {
			return true
		}
		for _, n := range r.Verdicts {
			if n > 0 {
				return true
			}
		}
	}
	return false
}

// captureReasons says what in the capture itself keeps it from answering, with what to do about it.
func captureReasons(c *result.CaptureFacts) []string {
	if c.Packets == 0 {
		return []string{"no packet was read: check the file, or the interface and filter it was recorded with"}
	}
	var out []string
	q := &c.Quality
	if q.Undecodable >= MinLost && share(q.Undecodable, c.Packets) > MaxUndecodableShare {
		out = append(out, fmt.Sprintf("%d of %d packets (%s) could not be decoded (link type %s): record again "+
			"on the interface itself with an Ethernet or Linux cooked link type, e.g. tcpdump -i eth0 -w FILE "+
			"(not macOS PKTAP, not Wi-Fi monitor mode with radiotap; see docs/capturing.md)",
			q.Undecodable, c.Packets, percent(q.Undecodable, c.Packets), linkTypes(c.LinkTypes)))
	}
	if q.InterfaceDrops >= MinLost && share(q.InterfaceDrops, c.Packets+q.InterfaceDrops) > MaxDropShare {
		out = append(out, fmt.Sprintf("%d of %d packets (%s) were lost by the capturing interface: record "+
			"again with a larger buffer (tcpdump -B, live --buffer) or a filter such as \"port 53 or port 80 "+
			"or port 443\"", q.InterfaceDrops, c.Packets+q.InterfaceDrops,
			percent(q.InterfaceDrops, c.Packets+q.InterfaceDrops)))
	}
	if q.FragmentsDropped > 0 {
		out = append(out, fmt.Sprintf("%s could not be reassembled (a fragment was lost, the "+
			"memory cap was reached, or fragments overlapped), so what they carried was not analysed: record "+
			"again where no packet is lost, e.g. on the device itself",
			plural(int(q.FragmentsDropped), "fragmented IP datagram", "fragmented IP datagrams")))
	}
	return out
}

// emptyReason explains a capture with no Intune traffic, and says when the table rather than the capture may
// be why.
func emptyReason(s *result.Summary) string {
	msg := "no Intune traffic seen: no connection or lookup matched a requirement; record on the device, " +
		"or on the gateway interface facing it, while it enrolls or syncs (or pass --allow-empty if none was expected)"
	if n := len(s.Unlisted); n > 0 {
		msg += fmt.Sprintf("; %s seen that the table does not list", plural(n, "Microsoft name was", "Microsoft names were"))
		if c := s.UnlistedCoverage; c != nil && c.Names > 0 {
			msg += fmt.Sprintf(" (--rules %s lists %d of them)", c.Rules, c.Names)
		}
	}
	return msg
}

// plural picks the singular or plural phrase for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func share(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// percent formats part/whole as a whole percentage, never rounding a share above zero down to "0%".
func percent(part, whole uint64) string {
	p := part * 100 / max(whole, 1)
	if p == 0 && part > 0 {
		return "<1%"
	}
	return fmt.Sprintf("%d%%", p)
}

func linkTypes(list []string) string {
	if len(list) == 0 {
		return "unknown"
	}
	return strings.Join(list, ", ")
}
