package report

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
)

// renderEvidence writes a group's example records, with how many more there were. withRule adds the pattern a
// record matched, for problems that are not grouped by requirement.
func (t *textWriter) renderEvidence(b *bytes.Buffer, g *group, withRule bool) {
	tb := table{indent: "    "}
	head := []string{"NAME", "SERVER", "CLIENT", "VERDICT", "STAGE", "FRAME", "NAME FRAME"}
	if withRule {
		head = append(head, "RULE")
	}
	tb.add("", append(head, "DETAIL")...)
	shown := g.examples()
	for i := range shown {
		tb.add("", evidenceCells(&shown[i].r, withRule)...)
	}
	tb.render(b, t.opts.Color)
	if more := g.total - len(shown); more > 0 {
		fmt.Fprintf(b, "    … and %d more\n", more)
	}
}

// evidenceCells is one record as a row of the evidence table, every packet-borne string escaped.
func evidenceCells(r *result.Record, withRule bool) []string {
	cells := []string{
		nameCell(r),
		serverCell(r),
		safetext.Text(r.Client),
		safetext.Text(string(r.Verdict)),
		safetext.Text(string(r.Stage)),
		frameCell(r.File, r.FirstFrame),
		frameCell("", r.NameFrame),
	}
	if withRule {
		cells = append(cells, safetext.Text(r.Rule))
	}
	return append(cells, detail(r))
}

// nameCell is the record's name; through a proxy, with the CONNECT target port the rules checked.
func nameCell(r *result.Record) string {
	if r.Name == "" {
		return ""
	}
	if r.ViaProxy && r.Port != 0 {
		return safetext.Text(r.Name) + ":" + strconv.Itoa(int(r.Port))
	}
	return safetext.Text(r.Name)
}

// serverCell is address:port of the responder, marked when it was a proxy.
func serverCell(r *result.Record) string {
	s := hostPort(r.Server, r.ServerPort)
	if r.ViaProxy {
		s += " (proxy"
		if r.ProxyStatus != 0 {
			s += " " + strconv.Itoa(r.ProxyStatus)
		}
		s += ")"
	}
	return s
}

// hostPort joins an address and port the way Wireshark and URLs do, brackets around IPv6.
func hostPort(addr string, port uint16) string {
	if addr == "" {
		return ""
	}
	return net.JoinHostPort(safetext.Text(addr), strconv.Itoa(int(port)))
}

// frameCell is a frame number to open in Wireshark, prefixed by the file when several were read. The name frame
// is in the same file, so it goes without.
func frameCell(file string, frame uint64) string {
	if frame == 0 {
		return ""
	}
	n := strconv.FormatUint(frame, 10)
	if file != "" {
		return safetext.Text(file) + "#" + n
	}
	return n
}

// detail says why, in one cell: the engine's reason, the DNS answer, the chain that named the connection, and
// any warning.
func detail(r *result.Record) string {
	var parts []string
	if r.Reason != "" {
		parts = append(parts, safetext.Text(r.Reason))
	}
	if r.Type == "dns" {
		rcode := r.Rcode
		if rcode == "" {
			rcode = "no reply"
		}
		parts = append(parts, strings.TrimSpace(safetext.Text(r.QType)+" query, "+safetext.Text(rcode)))
	}
	if len(r.CNAMEs) > 0 {
		parts = append(parts, "cnames "+chain(r.CNAMEs))
	}
	if len(r.DNSChain) > 0 {
		parts = append(parts, "named by dns "+chain(r.DNSChain))
	}
	if r.Warning != "" {
		parts = append(parts, "warning: "+safetext.Text(r.Warning))
	}
	return strings.Join(parts, "; ")
}

// chain escapes each name of a DNS chain and joins them with arrows.
func chain(names []string) string {
	esc := make([]string, len(names))
	for i, n := range names {
		esc[i] = safetext.Text(n)
	}
	return strings.Join(esc, " → ")
}
