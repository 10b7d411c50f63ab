package rules

import (
	"net/netip"
	"strconv"
	"strings"
)

// Proto is the transport a rule's ports apply to.
type Proto uint8

// The transports a requirement can name. The zero value is no transport, so a forgotten field never
// silently means TCP.
const (
	TCP Proto = 1
	UDP Proto = 2
)

// String gives the word used in port lists ("udp/123") and reports.
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// PortRange is one port (Lo == Hi) or an inclusive range, for one transport; a rule keeps several.
type PortRange struct {
	Proto  Proto
	Lo, Hi uint16
}

// Rule is one row of a requirement table. It keeps where it came from (Table, Row) so every verdict can be
// traced back to the line a reader can check.
type Rule struct {
	Table        string       // profile name or file path the row came from
	Row          int          // 1-based position within its table (KNOX/note rows count too)
	ID           string       // optional id (M365 JSON id, or "id:" in YAML)
	Purpose      string       // what the endpoint is for, in the table's words
	Pattern      string       // as written ("*.manage.microsoft.com"); empty for CIDR-only and note rows
	Prefix       netip.Prefix // CIDR rows (zero if none)
	Ports        []PortRange  // where connections are allowed; empty only for note rows
	Required     bool         // the source marks the endpoint as required
	NoInspection bool         // the source forbids TLS inspection of this endpoint
	Notes        string       // free text from the source
	// Probe lists concrete host names "intunecap probe" contacts for a wildcard pattern (each matches
	// Pattern); for an exact pattern the pattern itself is the host and Probe is usually empty.
	Probe []string
}

// Allows says whether the row permits a connection on this transport and port; the matcher uses it to tell
// "allowed" from "port-not-allowed".
func (r *Rule) Allows(proto Proto, port uint16) bool {
	for _, pr := range r.Ports {
		if pr.Proto == proto && pr.Lo <= port && port <= pr.Hi {
			return true
		}
	}
	return false
}

// IsNote reports a row that carries only text (the Samsung KNOX row): it is listed but never matches.
func (r *Rule) IsNote() bool {
	return r.Pattern == "" && !r.Prefix.IsValid()
}

// PortsString renders the ports in the syntax rule files use, so a printed row can be pasted back: "80,443"
// when every range is TCP, otherwise each run of one transport gets a prefix ("tcp/80,443 udp/123").
func (r *Rule) PortsString() string {
	return FormatPorts(r.Ports)
}

// Key is the stable identity of a row in reports and expectation files: table and 1-based row
// ("intune-2015:1"). Ids are not unique (one M365 id expands into many rows), so the row number is used.
func (r *Rule) Key() string {
	return r.Table + ":" + strconv.Itoa(r.Row)
}

// Target is what the row matches, for display: the pattern as written, or the CIDR, or "" for a note row.
func (r *Rule) Target() string {
	if r.Pattern != "" {
		return r.Pattern
	}
	if r.Prefix.IsValid() {
		return r.Prefix.String()
	}
	return ""
}

// FormatPorts renders port ranges in rule-file syntax; see Rule.PortsString.
func FormatPorts(ports []PortRange) string {
	allTCP := true
	for _, pr := range ports {
		if pr.Proto != TCP {
			allTCP = false
		}
	}
	var b strings.Builder
	var cur Proto
	for i, pr := range ports {
		switch {
		case !allTCP && pr.Proto != cur:
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(pr.Proto.String())
			b.WriteByte('/')
		case i > 0:
			b.WriteByte(',')
		}
		cur = pr.Proto
		b.WriteString(strconv.Itoa(int(pr.Lo)))
		if pr.Hi != pr.Lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(pr.Hi)))
		}
	}
	return b.String()
}
