package outcome

import (
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Failure is what the network did to a record when it stopped it: the verdict a listed name would have had,
// the stage and a sentence saying why.
type Failure struct {
	Verdict rules.Verdict // Blocked, Reset or Intercepted
	Stage   result.Stage
	Reason  string
}

// FailureOf says whether the network stopped r, whatever the table says about its name. Blocked and reset
// records carry their own stage and reason. For unlisted records the verdict is read from the record's state,
// proxy status and rcode, the same facts (and the same words) the engine judges listed names by; the engine
// leaves their stage and reason empty, and when it fills them they are used. Records of other verdicts are not
// failures.
func FailureOf(r *result.Record) (Failure, bool) {
	switch r.Verdict {
	case rules.Blocked, rules.Reset, rules.Intercepted:
		return Failure{r.Verdict, r.Stage, r.Reason}, true
	case rules.Unlisted:
		f, failed := flowFailure(r)
		if r.Type == "dns" {
			f, failed = dnsFailure(r)
		}
		if failed && r.Reason != "" { // the engine said it itself: its stage and words are the more precise
			f.Stage, f.Reason = r.Stage, r.Reason
		}
		return f, failed
	}
	return Failure{}, false
}

func dnsFailure(r *result.Record) (Failure, bool) {
	switch {
	case r.State == result.StateUnanswered:
		return Failure{rules.Blocked, result.StageAfterQuery, "no answer came back"}, true
	case r.State == result.StateRejected:
		return Failure{rules.Blocked, result.StageAfterQuery, "rejected by ICMP"}, true
	case r.Rcode != "" && r.Rcode != "NOERROR":
		return Failure{rules.Blocked, result.StageAfterQuery, "the resolver answered " + r.Rcode}, true
	}
	return Failure{}, false
}

func flowFailure(r *result.Record) (Failure, bool) {
	if r.SOCKS.Refused() {
		return Failure{rules.Blocked, result.StageAfterSOCKS, r.SOCKS.RefusalReason()}, true
	}
	switch s := r.ProxyStatus; {
	case s == 407:
		return Failure{rules.Blocked, result.StageAfterConnect, "the proxy asked for authentication (407)"}, true
	case s == 403 || s >= 500:
		return Failure{rules.Blocked, result.StageAfterConnect, "the proxy refused the request (" + strconv.Itoa(s) + ")"}, true
	}
	switch r.State {
	case result.StateRefused:
		return Failure{rules.Reset, result.StageAfterSyn, "the server answered the SYN with a reset (connection refused)"}, true
	case result.StateReset:
		if !strings.Contains(r.History, "D") { // Zeek history: no data from the client before the reset
			return Failure{rules.Reset, result.StageAfterSyn, "the server side reset the connection before any data"}, true
		}
		return Failure{rules.Reset, "", "the server side reset the connection"}, true
	case result.StateUnanswered:
		if r.Proto == "udp" {
			return Failure{rules.Blocked, result.StageAfterQuery, "no reply came back"}, true
		}
		return Failure{rules.Blocked, result.StageAfterSyn, "the SYN got no answer"}, true
	case result.StateRejected:
		if r.Proto == "udp" {
			return Failure{rules.Blocked, result.StageAfterQuery, "rejected by ICMP"}, true
		}
		return Failure{rules.Blocked, result.StageAfterSyn, "rejected by ICMP"}, true
	}
	return Failure{}, false
}
