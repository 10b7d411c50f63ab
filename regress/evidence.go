package regress

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
)

// maxExamples is how many example records are kept per requirement, name or verdict: enough to show a
// pattern, few enough that memory stays bounded on any capture.
const maxExamples = 3

// Evidence is one example record behind a verdict: enough to find the packets in Wireshark (file, frames)
// and to see what happened (name, server, state, stage), without keeping the record itself.
type Evidence struct {
	Type        string `json:"type"` // "flow" or "dns"
	Proto       string `json:"proto"`
	Name        string `json:"name,omitempty"`
	NameSource  string `json:"name_source,omitempty"`
	Client      string `json:"client"`
	Server      string `json:"server"`
	ServerPort  uint16 `json:"server_port"`
	Port        uint16 `json:"port"`
	ViaProxy    bool   `json:"via_proxy,omitempty"`
	ProxyStatus int    `json:"proxy_status,omitempty"`
	RuleKey     string `json:"rule_key,omitempty"`
	State       string `json:"state"`
	Verdict     string `json:"verdict"`
	Stage       string `json:"stage,omitempty"`
	Reason      string `json:"reason,omitempty"`
	QType       string `json:"qtype,omitempty"`
	Rcode       string `json:"rcode,omitempty"`
	File        string `json:"file,omitempty"`
	FirstFrame  uint64 `json:"first_frame"`
	LastFrame   uint64 `json:"last_frame"`
}

// evidenceOf copies what a report needs from a record; the engine may reuse the record after Record returns.
func evidenceOf(r *result.Record) Evidence {
	return Evidence{
		Type: r.Type, Proto: r.Proto, Name: r.Name, NameSource: string(r.NameSource), Client: r.Client,
		Server: r.Server, ServerPort: r.ServerPort, Port: r.Port, ViaProxy: r.ViaProxy,
		ProxyStatus: r.ProxyStatus, RuleKey: r.RuleKey, State: string(r.State), Verdict: string(r.Verdict),
		Stage: string(r.Stage), Reason: r.Reason, QType: r.QType, Rcode: r.Rcode, File: r.File,
		FirstFrame: r.FirstFrame, LastFrame: r.LastFrame,
	}
}

// String is the evidence on one line, every string that came from a packet escaped for a terminal:
// "reset: blocked.manage.microsoft.com (sni) tcp 198.18.0.2 -> 198.18.1.12:443 reset after-client-hello, frames 97-101".
func (e Evidence) String() string {
	var b strings.Builder
	b.WriteString(e.Verdict)
	b.WriteString(": ")
	if e.Name != "" {
		b.WriteString(safetext.Text(e.Name))
		if e.NameSource != "" {
			b.WriteString(" (" + safetext.Text(e.NameSource) + ")")
		}
		b.WriteByte(' ')
	}
	b.WriteString(e.Type + " " + e.Proto + " " + safetext.Text(e.Client) + " -> " + hostPort(e.Server, e.ServerPort))
	if e.ViaProxy {
		b.WriteString(" (proxy")
		if e.ProxyStatus != 0 {
			b.WriteString(" answered " + strconv.Itoa(e.ProxyStatus))
		}
		b.WriteString(", target port " + strconv.Itoa(int(e.Port)) + ")")
	}
	if e.Type == "dns" {
		b.WriteString(" " + safetext.Text(e.QType) + " " + safetext.Text(e.Rcode))
	}
	b.WriteString(" " + safetext.Text(e.State))
	if e.Stage != "" {
		b.WriteString(" " + safetext.Text(e.Stage))
	}
	b.WriteString(", " + e.frames())
	if e.Reason != "" {
		b.WriteString(": " + safetext.Text(e.Reason))
	}
	return b.String()
}

// frames is "frame 5" or "frames 5-9", with the file when several were read.
func (e Evidence) frames() string {
	s := "frame " + strconv.FormatUint(e.FirstFrame, 10)
	if e.LastFrame > e.FirstFrame {
		s = "frames " + strconv.FormatUint(e.FirstFrame, 10) + "-" + strconv.FormatUint(e.LastFrame, 10)
	}
	if e.File != "" {
		s += " of " + safetext.Text(e.File)
	}
	return s
}

// hostPort joins an address and port, bracketing IPv6 addresses.
func hostPort(host string, port uint16) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, port).String()
	}
	return safetext.Text(host) + ":" + strconv.Itoa(int(port))
}

// examples keeps the first few records of interest, failures first: a requirement that fails once among a
// thousand successes must show the failure.
type examples struct {
	failing []Evidence // blocked or reset
	other   []Evidence // any other verdict
}

func (x *examples) add(r *result.Record, failing bool) {
	if failing {
		if len(x.failing) < maxExamples {
			x.failing = append(x.failing, evidenceOf(r))
		}
		return
	}
	if len(x.other) < maxExamples {
		x.other = append(x.other, evidenceOf(r))
	}
}

// pick returns up to n examples: failures first when wantFailing, else the others first.
func (x *examples) pick(n int, wantFailing bool) []Evidence {
	first, second := x.failing, x.other
	if !wantFailing {
		first, second = second, first
	}
	out := append([]Evidence(nil), first[:min(n, len(first))]...)
	rest := n - len(out)
	return append(out, second[:min(rest, len(second))]...)
}
