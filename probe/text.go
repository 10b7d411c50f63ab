package probe

import (
	"fmt"
	"io"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
)

// WriteText writes the probe section of the text report: one line per probe (name, port, method, verdict,
// socket outcome, wire verdict, and what differs), then the rows not probed with their reasons. Strings a
// server sent (statuses, alerts, certificate names) pass through safetext.
func WriteText(w io.Writer, results []Result, skipped []NotProbeable, wireNote string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Probes (%d)\n", len(results))
	for i := range results {
		writeResult(&b, &results[i])
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "\nNot probeable (%d)\n", len(skipped))
		for _, s := range skipped {
			ports := ""
			if s.Ports != "" {
				ports = " " + s.Ports
			}
			target := s.Rule
			if target == "" {
				target = "(" + s.Purpose + ")"
			}
			fmt.Fprintf(&b, "  %-16s %s%s: %s\n", s.RuleKey, target, ports, s.Reason)
		}
	}
	if wireNote != "" {
		fmt.Fprintf(&b, "\n%s\n", wireNote)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeResult(b *strings.Builder, r *Result) {
	mark := "ok  "
	if r.Failed {
		mark = "FAIL"
	}
	fmt.Fprintf(b, "  %s %-16s %s %s/%d %s via %s\n", mark, r.Verdict, r.Name, r.Proto, r.Port, r.Method, via(r))
	s := &r.Socket
	line := "socket: " + string(s.Outcome)
	if s.Stage != "" && s.Outcome != OutcomeOK {
		line += " (" + s.Stage + ")"
	}
	if s.Detail != "" {
		line += ": " + safetext.Text(s.Detail)
	}
	fmt.Fprintf(b, "       %s\n", line)
	if r.Wire != nil {
		wl := fmt.Sprintf("wire: %s, %s", r.Wire.Verdict, r.Wire.State)
		if r.Wire.RecordVerdict != "" {
			wl += fmt.Sprintf(" (the capture's record says %s: no name for it on the wire)", r.Wire.RecordVerdict)
		}
		if r.Wire.Reason != "" {
			wl += ": " + r.Wire.Reason
		}
		fmt.Fprintf(b, "       %s (frame %d, history %s)\n", wl, r.Wire.FirstFrame, r.Wire.History)
	} else if r.Evidence == "socket" && s.Local != "" {
		fmt.Fprintf(b, "       wire: no record of %s > %s in the capture\n", s.Local, s.Remote)
	}
	if s.CertChain != "" {
		fmt.Fprintf(b, "       certificate: %s chain, issuer %q, subject %q\n", s.CertChain,
			safetext.Text(s.CertIssuer), safetext.Text(s.CertSubject))
	}
	if r.Intercepted {
		fmt.Fprintf(b, "       intercepted: the chain is %s; Intune endpoints must be reached without TLS inspection\n", s.CertChain)
	}
	if s.Location != "" {
		fmt.Fprintf(b, "       redirect to %s (not followed)\n", safetext.Text(s.Location))
	}
	if r.Disagreement != "" {
		fmt.Fprintf(b, "       disagreement: %s\n", r.Disagreement)
	}
	fmt.Fprintf(b, "       rows: %s\n", strings.Join(r.RuleKeys, " "))
}

func via(r *Result) string {
	if r.Proxy != "" {
		return "proxy " + r.Proxy
	}
	if r.Socket.Remote != "" {
		return r.Socket.Remote
	}
	return "direct"
}
