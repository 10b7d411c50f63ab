package report

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/result"
)

// renderEvidence writes a group's example records, with how many more there were. withRule adds the pattern a
// record matched, for problems that are not grouped by requirement. The wide layout is one line per record;
// the narrow one puts the detail, the client and the name's frame on an indented line under the record.
func (t *textWriter) renderEvidence(b *bytes.Buffer, g *group, withRule bool) {
	tb := table{indent: "    "}
	if t.opts.Wide {
		head := []string{"NAME", "SERVER", "CLIENT", "VERDICT", "STAGE", "FRAME", "NAME FRAME"}
		if withRule {
			head = append(head, "RULE")
		}
		tb.add("", append(head, "DETAIL")...)
	} else {
		tb.add("", "NAME", "VERDICT", "STAGE", "SERVER", "FRAME")
	}
	shown := 0
	for _, ex := range g.examples() {
		r := &ex.r
		if g.key == kindUnlistedFailure && t.tracker.Forgiven(r) {
			continue
		}
		shown++
		if t.opts.Wide {
			tb.add("", wideEvidenceCells(r, withRule)...)
			continue
		}
		tb.add("", nameCell(r), verdictCell(r), stageCell(r), hostPort(r.Server, r.ServerPort), frameCell(r.File, r.FirstFrame))
		tb.below(narrowDetail(r, withRule))
	}
	tb.render(b, t.opts.Color)
	if more := g.total - shown; more > 0 {
		fmt.Fprintf(b, "    … and %d more\n", more)
	}
}

// wideEvidenceCells is one record as a row of the wide evidence table, every packet-borne string escaped.
func wideEvidenceCells(r *result.Record, withRule bool) []string {
	cells := []string{
		nameCell(r),
		serverCell(r),
		safetext.Text(r.Client),
		verdictCell(r),
		stageCell(r),
		frameCell(r.File, r.FirstFrame),
		frameCell("", r.NameFrame),
	}
	if withRule {
		cells = append(cells, safetext.Text(r.Rule))
	}
	return append(cells, detail(r))
}

// narrowDetail is what the narrow layout says under a record: the detail, then where it came from.
func narrowDetail(r *result.Record, withRule bool) string {
	parts := []string{}
	if d := detail(r); d != "" {
		parts = append(parts, d)
	}
	switch {
	case r.SOCKS != nil:
		parts = append(parts, "through the SOCKS"+safetext.Text(r.SOCKS.Version)+" proxy")
	case r.ViaProxy:
		parts = append(parts, "through the proxy")
	}
	from := "client " + safetext.Text(r.Client)
	if r.NameFrame != 0 && r.NameFrame != r.FirstFrame {
		from += ", name in frame " + strconv.FormatUint(r.NameFrame, 10)
	}
	if withRule && r.Rule != "" {
		from += ", rule " + safetext.Text(r.Rule)
	}
	return strings.Join(append(parts, from), "; ")
}

// verdictCell is the record's verdict; for a failure to an unlisted name, what the network did is its detail.
func verdictCell(r *result.Record) string { return safetext.Text(string(r.Verdict)) }

// stageCell is where a failure happened, read from the record's state when the engine left it empty.
func stageCell(r *result.Record) string {
	if r.Stage == "" {
		if f, failed := outcome.FailureOf(r); failed {
			return safetext.Text(string(f.Stage))
		}
	}
	return safetext.Text(string(r.Stage))
}

// nameCell is the record's name; through a proxy, with the CONNECT or SOCKS target port the rules checked.
func nameCell(r *result.Record) string {
	if r.Name == "" {
		return ""
	}
	if r.ViaProxy && r.Port != 0 {
		return safetext.Text(r.Name) + ":" + strconv.Itoa(int(r.Port))
	}
	return safetext.Text(r.Name)
}

// serverCell is address:port of the responder, marked when it was a proxy: "(proxy 403)" with the status of
// an HTTP proxy's answer, "(SOCKS5 proxy, reply 2)" with a SOCKS proxy's reply code.
func serverCell(r *result.Record) string {
	s := hostPort(r.Server, r.ServerPort)
	switch {
	case r.SOCKS != nil:
		s += " (SOCKS" + safetext.Text(r.SOCKS.Version) + " proxy"
		if r.SOCKS.Reply != nil {
			s += ", reply " + strconv.Itoa(*r.SOCKS.Reply)
		}
		s += ")"
	case r.ViaProxy:
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
	} else if f, failed := outcome.FailureOf(r); failed {
		parts = append(parts, safetext.Text(string(f.Verdict))+": "+safetext.Text(f.Reason))
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
