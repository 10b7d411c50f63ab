package outcome

import (
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// summary builds a summary with one requirement in the given status, packets read, and quality counters.
func summary(status string, packets, undecodable, drops uint64) *result.Summary {
	s := &result.Summary{Capture: result.CaptureFacts{Packets: packets, LinkTypes: []string{"Ethernet"},
		Quality: result.Quality{Undecodable: undecodable, InterfaceDrops: drops}}}
	s.Rules = []result.RuleSummary{{Key: "t:1", Status: status}, {Key: "t:2", Status: "not-seen"}}
	return s
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		s       *result.Summary
		p       Policy
		want    Outcome
		reasons []string // substrings, one per reason, in order
	}{
		{"clean pass", summary("ok", 178, 2, 0), Policy{}, Pass, nil},
		{"failing", func() *result.Summary { s := summary("failing", 178, 0, 0); s.Failing = 3; return s }(), Policy{}, Fail, nil},
		{"unlisted failing", func() *result.Summary { s := summary("ok", 178, 0, 0); s.UnlistedFailing = 1; return s }(), Policy{}, Fail, nil},
		{"nothing seen", summary("not-seen", 178, 0, 0), Policy{}, Inconclusive, []string{"no Intune traffic seen"}},
		{"nothing seen, allowed", summary("not-seen", 178, 0, 0), Policy{AllowEmpty: true}, Pass, nil},
		{"port-not-allowed is seen", func() *result.Summary {
			s := summary("not-seen", 178, 0, 0)
			s.Rules[0].Verdicts = map[string]int{"port-not-allowed": 1}
			return s
		}(), Policy{}, Pass, nil},
		{"all undecodable", summary("not-seen", 178, 178, 0), Policy{AllowEmpty: true}, Inconclusive,
			[]string{"178 of 178 packets (100%) could not be decoded (link type Ethernet)"}},
		{"all undecodable, not allowed", summary("not-seen", 178, 178, 0), Policy{}, Inconclusive,
			[]string{"could not be decoded", "no Intune traffic seen"}},
		{"a few ARP frames", summary("ok", 21, 2, 0), Policy{}, Pass, nil},
		{"20% undecodable", summary("ok", 1000, 200, 0), Policy{}, Pass, nil},
		{"21% undecodable", summary("ok", 1000, 210, 0), Policy{}, Inconclusive, []string{"210 of 1000 packets (21%)"}},
		{"drops", summary("ok", 900, 0, 100), Policy{}, Inconclusive, []string{"100 of 1000 packets (10%) were lost"}},
		{"few drops", summary("ok", 100000, 0, 9), Policy{}, Pass, nil},
		{"failing in a poor capture", func() *result.Summary { s := summary("failing", 100, 90, 0); s.Failing = 1; return s }(),
			Policy{}, Fail, []string{"could not be decoded"}},
		{"dropped fragments", func() *result.Summary {
			s := summary("ok", 178, 0, 0)
			s.Capture.Quality.FragmentsDropped = 2
			return s
		}(), Policy{}, Inconclusive, []string{"2 fragmented IP datagrams could not be reassembled"}},
		{"reassembled and incomplete fragments", func() *result.Summary {
			s := summary("ok", 178, 0, 0)
			s.Capture.Quality.FragmentsReassembled, s.Capture.Quality.FragmentsIncomplete = 5, 1
			return s
		}(), Policy{}, Pass, nil},
		{"no packet", summary("not-seen", 0, 0, 0), Policy{AllowEmpty: true}, Inconclusive, []string{"no packet was read"}},
		{"unlisted hint", func() *result.Summary {
			s := summary("not-seen", 50, 0, 0)
			s.Unlisted = []result.NameCount{{Name: "graph.windows.net", Count: 1}, {Name: "x.microsoft.com", Count: 2}}
			s.UnlistedCoverage = &result.Coverage{Rules: "intune-current", Names: 1, Of: 2}
			return s
		}(), Policy{}, Inconclusive, []string{"2 Microsoft names were seen that the table does not list (--rules intune-current lists 1 of them)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.s, tt.p)
			if d.Outcome != tt.want {
				t.Errorf("outcome %s, want %s (reasons %q)", d.Outcome, tt.want, d.Reasons)
			}
			if len(d.Reasons) != len(tt.reasons) {
				t.Fatalf("reasons %q, want %d", d.Reasons, len(tt.reasons))
			}
			for i, r := range tt.reasons {
				if !strings.Contains(d.Reasons[i], r) {
					t.Errorf("reason %d %q lacks %q", i, d.Reasons[i], r)
				}
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for o, want := range map[Outcome]int{Pass: 0, Fail: 1, Inconclusive: 3, "": 3} {
		if got := o.ExitCode(); got != want {
			t.Errorf("%q: exit %d, want %d", o, got, want)
		}
	}
}

func TestFailureOf(t *testing.T) {
	unlisted := func(mod func(r *result.Record)) *result.Record {
		r := &result.Record{Type: "flow", Proto: "tcp", Name: "x.microsoft.com", Verdict: rules.Unlisted, State: "established", History: "ShADadFf"}
		mod(r)
		return r
	}
	tests := []struct {
		name   string
		r      *result.Record
		failed bool
		want   Failure
	}{
		{"established", unlisted(func(r *result.Record) {}), false, Failure{}},
		{"proxy 407", unlisted(func(r *result.Record) { r.ViaProxy, r.ProxyStatus = true, 407 }), true,
			Failure{rules.Blocked, "after-connect", "the proxy asked for authentication (407)"}},
		{"proxy 502", unlisted(func(r *result.Record) { r.ProxyStatus = 502 }), true,
			Failure{rules.Blocked, "after-connect", "the proxy refused the request (502)"}},
		{"proxy 200", unlisted(func(r *result.Record) { r.ProxyStatus = 200 }), false, Failure{}},
		{"refused", unlisted(func(r *result.Record) { r.State, r.History = "refused", "Sr" }), true,
			Failure{rules.Reset, "after-syn", "the server answered the SYN with a reset (connection refused)"}},
		{"reset after data", unlisted(func(r *result.Record) { r.State, r.History = "reset", "ShADr" }), true,
			Failure{rules.Reset, "", "the server side reset the connection"}},
		{"reset before data", unlisted(func(r *result.Record) { r.State, r.History = "reset", "Shar" }), true,
			Failure{rules.Reset, "after-syn", "the server side reset the connection before any data"}},
		{"unanswered syn", unlisted(func(r *result.Record) { r.State, r.History = "unanswered", "ST" }), true,
			Failure{rules.Blocked, "after-syn", "the SYN got no answer"}},
		{"unanswered udp", unlisted(func(r *result.Record) { r.State, r.Proto = "unanswered", "udp" }), true,
			Failure{rules.Blocked, "after-query", "no reply came back"}},
		{"dns servfail", unlisted(func(r *result.Record) { r.Type, r.State, r.Rcode = "dns", "answered", "SERVFAIL" }), true,
			Failure{rules.Blocked, "after-query", "the resolver answered SERVFAIL"}},
		{"dns noerror", unlisted(func(r *result.Record) { r.Type, r.State, r.Rcode = "dns", "answered", "NOERROR" }), false, Failure{}},
		{"dns unanswered", unlisted(func(r *result.Record) { r.Type, r.State = "dns", "unanswered" }), true,
			Failure{rules.Blocked, "after-query", "no answer came back"}},
		{"rejected syn", unlisted(func(r *result.Record) { r.State, r.History = "rejected", "S" }), true,
			Failure{rules.Blocked, "after-syn", "rejected by ICMP"}},
		{"rejected udp", unlisted(func(r *result.Record) { r.State, r.Proto = "rejected", "udp" }), true,
			Failure{rules.Blocked, "after-query", "rejected by ICMP"}},
		{"dns rejected, as the engine says", unlisted(func(r *result.Record) {
			r.Type, r.State, r.Stage, r.Reason = "dns", "rejected", "after-query", "rejected by ICMP port unreachable from 192.0.2.1"
		}), true, Failure{rules.Blocked, "after-query", "rejected by ICMP port unreachable from 192.0.2.1"}},
		{"listed blocked", &result.Record{Verdict: rules.Blocked, Stage: "after-syn", Reason: "r"}, true,
			Failure{rules.Blocked, "after-syn", "r"}},
		{"listed intercepted", &result.Record{Verdict: rules.Intercepted, Reason: "TLS inspection"}, true,
			Failure{rules.Intercepted, "", "TLS inspection"}},
		{"other", unlisted(func(r *result.Record) { r.Verdict, r.State = rules.Other, "refused" }), false, Failure{}},
		{"engine judged it", unlisted(func(r *result.Record) { r.State, r.Stage, r.Reason = "refused", "after-syn", "said" }), true,
			Failure{rules.Reset, "after-syn", "said"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, failed := FailureOf(tt.r)
			if failed != tt.failed || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, failed, tt.want, tt.failed)
			}
		})
	}
}

// TestTracker checks the forgiveness of failed lookups, the policy, and that --fail-on unlisted does not count
// a record twice.
func TestTracker(t *testing.T) {
	lookup := func(client, rcode string) *result.Record {
		return &result.Record{Type: "dns", Client: client, Name: "x.microsoft.com", Verdict: rules.Unlisted, State: "answered", Rcode: rcode}
	}
	reset := &result.Record{Type: "flow", Proto: "tcp", Verdict: rules.Unlisted, State: "reset", History: "ShADr"}
	tests := []struct {
		name    string
		p       Policy
		recs    []*result.Record
		failing int
		lookups int
	}{
		{"servfail alone", Policy{}, []*result.Record{lookup("a", "SERVFAIL")}, 1, 1},
		{"servfail then answered", Policy{}, []*result.Record{lookup("a", "SERVFAIL"), lookup("a", "NOERROR")}, 0, 0},
		{"answered then refused", Policy{}, []*result.Record{lookup("a", "NOERROR"), lookup("a", "REFUSED")}, 0, 0},
		{"another client answered", Policy{}, []*result.Record{lookup("a", "SERVFAIL"), lookup("b", "NOERROR")}, 1, 1},
		{"reset and lookup", Policy{}, []*result.Record{reset, lookup("a", "NXDOMAIN")}, 2, 1},
		{"reset not in fail-on", Policy{FailOn: []rules.Verdict{rules.Blocked}}, []*result.Record{reset}, 0, 0},
		{"fail-on unlisted counts by verdict", Policy{FailOn: []rules.Verdict{rules.Unlisted, rules.Reset}}, []*result.Record{reset}, 0, 0},
		{"fail-on none", Policy{FailOn: []rules.Verdict{}}, []*result.Record{reset, lookup("a", "SERVFAIL")}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.p)
			for _, r := range tt.recs {
				tr.Add(r)
			}
			if tr.Failing() != tt.failing || tr.FailingLookups() != tt.lookups {
				t.Errorf("failing %d (lookups %d), want %d (%d)", tr.Failing(), tr.FailingLookups(), tt.failing, tt.lookups)
			}
		})
	}
}

// TestSinkFills checks that the sink passes on a summary with the outcome filled, and keeps it.
func TestSinkFills(t *testing.T) {
	var got *result.Summary
	next := sinkFunc(func(s *result.Summary) { got = s })
	s := NewSink(next, Policy{})
	s.Cover = func(names []result.NameCount) *result.Coverage {
		return &result.Coverage{Rules: "r", Names: 1, Of: len(names)}
	}
	s.Record(&result.Record{Type: "flow", Proto: "tcp", Verdict: rules.Unlisted, State: "refused", History: "Sr"})
	in := summary("ok", 10, 0, 0)
	in.Unlisted = []result.NameCount{{Name: "n", Count: 1}}
	if err := s.Summary(in); err != nil {
		t.Fatal(err)
	}
	if got != s.Final() || got.Outcome != "fail" || got.UnlistedFailing != 1 || got.UnlistedCoverage.Of != 1 {
		t.Errorf("summary %+v", got)
	}
	if in.Outcome != "" {
		t.Error("the caller's summary was changed")
	}
}

type sinkFunc func(*result.Summary)

func (f sinkFunc) Record(*result.Record) error     { return nil }
func (f sinkFunc) Summary(s *result.Summary) error { f(s); return nil }
