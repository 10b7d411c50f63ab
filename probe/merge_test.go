package probe

import (
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

func TestMerge(t *testing.T) {
	const local, remote = "198.18.0.2:50000", "198.18.1.10:443"
	wireRec := func(v rules.Verdict, state, stage string) result.Record {
		return result.Record{Type: "flow", Proto: "tcp", Client: "198.18.0.2", ClientPort: 50000, Server: "198.18.1.10",
			ServerPort: 443, Verdict: v, State: result.State(state), Stage: result.Stage(stage), Reason: "wire reason", Name: "a.example.com", NameSource: "sni"}
	}
	failOn := []rules.Verdict{rules.Blocked, rules.Reset}
	tests := []struct {
		name         string
		socket       Socket
		records      []result.Record // nil: no capture
		verdict      rules.Verdict
		evidence     string
		wire         rules.Verdict
		wireStage    string
		disagreement string
		failed       bool
		intercepted  bool
		others       int
	}{
		{name: "agree allowed", socket: Socket{Outcome: OutcomeOK, CertChain: ChainPublic},
			records: []result.Record{wireRec(rules.Allowed, "established", "")}, verdict: rules.Allowed, evidence: "wire", wire: rules.Allowed},
		{name: "no capture", socket: Socket{Outcome: OutcomeTimeout, Stage: stageAfterSyn},
			verdict: rules.Blocked, evidence: "socket", failed: true},
		{name: "capture without the connection", socket: Socket{Outcome: OutcomeTimeout, Stage: stageAfterSyn},
			records: []result.Record{}, verdict: rules.Blocked, evidence: "socket", failed: true},
		{name: "socket timeout, wire reset", socket: Socket{Outcome: OutcomeTimeout, Stage: stageAfterHello},
			records: []result.Record{wireRec(rules.Reset, "reset", "after-client-hello")}, verdict: rules.Reset, evidence: "wire",
			wire: rules.Reset, wireStage: "after-client-hello", disagreement: "socket: timeout, wire: reset (after-client-hello)", failed: true},
		{name: "unnamed unanswered SYN", socket: Socket{Outcome: OutcomeTimeout, Stage: stageAfterSyn},
			records: []result.Record{wireRec(rules.Other, "unanswered", "")}, verdict: rules.Blocked, evidence: "wire",
			wire: rules.Blocked, wireStage: "after-syn", failed: true},
		{name: "unnamed refused", socket: Socket{Outcome: OutcomeRefused, Stage: stageAfterSyn},
			records: []result.Record{wireRec(rules.Unlisted, "refused", "")}, verdict: rules.Reset, evidence: "wire",
			wire: rules.Reset, wireStage: "after-syn", failed: true},
		{name: "tls alert only the socket saw", socket: Socket{Outcome: OutcomeTLSAlert, Stage: stageAfterHello},
			records: []result.Record{wireRec(rules.Allowed, "closed", "")}, verdict: rules.Blocked, evidence: "wire",
			wire: rules.Allowed, disagreement: "socket: tls-alert, wire: allowed", failed: true},
		{name: "intercepted", socket: Socket{Outcome: OutcomeOK, CertChain: ChainPrivate},
			records: []result.Record{wireRec(rules.Allowed, "established", "")}, verdict: rules.Intercepted, evidence: "wire",
			wire: rules.Allowed, failed: true, intercepted: true},
		{name: "other traffic kept", socket: Socket{Outcome: OutcomeOK},
			records: []result.Record{wireRec(rules.Allowed, "established", ""),
				{Type: "flow", Proto: "tcp", Client: "198.18.0.2", ClientPort: 50001, Server: "198.18.1.10", ServerPort: 443},
				{Type: "dns", Proto: "udp", Client: "198.18.0.2", ClientPort: 50000, Server: "198.18.1.10", ServerPort: 443}},
			verdict: rules.Allowed, evidence: "wire", wire: rules.Allowed, others: 2},
		{name: "udp record does not match tcp", socket: Socket{Outcome: OutcomeOK},
			records: []result.Record{func() result.Record { r := wireRec(rules.Allowed, "answered", ""); r.Proto = "udp"; return r }()},
			verdict: rules.Allowed, evidence: "socket", others: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.socket
			s.Local, s.Remote = local, remote
			results := []Result{{Name: "a.example.com", Proto: "tcp", Port: 443, RuleKeys: []string{"t:1"}, Socket: s}}
			others := Merge(results, tt.records, failOn)
			r := results[0]
			if r.Verdict != tt.verdict || r.Evidence != tt.evidence || r.Disagreement != tt.disagreement ||
				r.Failed != tt.failed || r.Intercepted != tt.intercepted || len(others) != tt.others {
				t.Errorf("got verdict %s evidence %s disagreement %q failed %v intercepted %v others %d",
					r.Verdict, r.Evidence, r.Disagreement, r.Failed, r.Intercepted, len(others))
			}
			var wire rules.Verdict
			var stage string
			if r.Wire != nil {
				wire, stage = r.Wire.Verdict, r.Wire.Stage
			}
			if wire != tt.wire || stage != tt.wireStage {
				t.Errorf("wire %s stage %q, want %s %q", wire, stage, tt.wire, tt.wireStage)
			}
			rec := r.Record()
			if rec.Verdict != r.Verdict || rec.RuleKey != "t:1" || rec.Name != "a.example.com" {
				t.Errorf("record %+v does not carry the probe's verdict, row and name", rec)
			}
		})
	}
}

func TestOutcomeVerdict(t *testing.T) {
	for o, want := range map[Outcome]rules.Verdict{
		OutcomeOK: rules.Allowed, OutcomeRefused: rules.Reset, OutcomeReset: rules.Reset, OutcomeTimeout: rules.Blocked,
		OutcomeProxyAuth: rules.Blocked, OutcomeProxyDenied: rules.Blocked, OutcomeDNSFailed: rules.Blocked,
		OutcomeTLSAlert: rules.Blocked, OutcomeNoAnswer: rules.Blocked,
	} {
		if got := o.Verdict(); got != want {
			t.Errorf("%s: %s, want %s", o, got, want)
		}
	}
}
