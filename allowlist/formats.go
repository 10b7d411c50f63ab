package allowlist

import (
	"bufio"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// lines collects output lines and writes them at once.
type lines struct{ out []string }

func (l *lines) add(s string)     { l.out = append(l.out, s) }
func (l *lines) comment(s string) { l.out = append(l.out, "# "+commentText(s)) }

func (l *lines) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, s := range l.out {
		bw.WriteString(s)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// withHeader starts a line list with the header comments.
func withHeader(head []string) *lines {
	l := &lines{}
	for _, h := range head {
		l.comment(h)
	}
	return l
}

// writeFQDN writes one pattern a line, as the rules write it (ASCII, lower case, "*" kept).
func writeFQDN(w io.Writer, entries []entry, head []string) error {
	l := withHeader(head)
	var seen []string
	for _, e := range entries {
		switch {
		case e.err != nil:
			l.comment(describe(e.row) + ": cannot be written: " + e.err.Error())
		case e.target.kind == kindCIDR:
			l.comment(describe(e.row) + ": an address range, not a name (see the csv or squid format)")
		case slices.Contains(seen, e.target.ascii):
		default:
			seen = append(seen, e.target.ascii)
			l.add(e.target.ascii)
		}
	}
	return l.write(w)
}

// writeNoInspection writes the patterns and address ranges to exempt from TLS inspection: the rows that allow
// TCP port 443. Rows for plain HTTP only carry no TLS to exempt.
func writeNoInspection(w io.Writer, entries []entry, head []string) error {
	l := withHeader(head)
	var seen []string
	for _, e := range entries {
		switch {
		case e.err != nil:
			l.comment(describe(e.row) + ": cannot be written: " + e.err.Error())
		case !allowsTLS(e.row.Ports):
			l.comment(describe(e.row) + ": skipped, its ports do not include TCP 443")
		case slices.Contains(seen, e.target.ascii):
		default:
			seen = append(seen, e.target.ascii)
			l.add(e.target.ascii)
		}
	}
	return l.write(w)
}

// allowsTLS says whether a row's ports include TCP 443; ports that do not parse count as yes, so a row is
// never dropped for a syntax this package does not know.
func allowsTLS(ports string) bool {
	prs, err := rules.ParsePorts(ports)
	if err != nil {
		return true
	}
	for _, pr := range prs {
		if pr.Proto == rules.TCP && pr.Lo <= 443 && 443 <= pr.Hi {
			return true
		}
	}
	return false
}

// ACL names of the squid format.
const (
	squidDomains = "intunecap_domains"
	squidRegex   = "intunecap_regex"
	squidNets    = "intunecap_nets"
)

// writeSquid writes squid ACL lines: dstdomain for exact names and "*." wildcards (".example.com", which in
// squid also matches example.com itself), dstdom_regex for the forms dstdomain cannot say ("*example.com", a
// "*" label inside), dst for address ranges. A name another dstdomain entry already covers is left out with a
// comment: squid warns about such overlaps.
func writeSquid(w io.Writer, entries []entry, head []string) error {
	l := withHeader(head)
	l.comment(`squid's ".example.com" matches example.com and every name below it.`)
	var domains, regexes, nets []string
	for _, e := range entries {
		switch {
		case e.err != nil:
			l.comment(describe(e.row) + ": cannot be written: " + e.err.Error())
		case e.target.kind == kindExact:
			domains = appendNew(domains, e.target.base)
		case e.target.kind == kindSub:
			domains = appendNew(domains, "."+e.target.base)
		case e.target.kind == kindCIDR:
			nets = appendNew(nets, e.target.prefix.String())
		default:
			regexes = appendNew(regexes, e.target.regex())
		}
	}
	for _, d := range domains {
		if by := coveredBy(d, domains); by != "" {
			l.comment(d + ": covered by " + by)
			continue
		}
		l.add("acl " + squidDomains + " dstdomain " + d)
	}
	for _, r := range regexes {
		l.add("acl " + squidRegex + " dstdom_regex -i " + r)
	}
	for _, n := range nets {
		l.add("acl " + squidNets + " dst " + n)
	}
	for _, acl := range usedACLs(domains, regexes, nets) {
		l.comment("allow with: http_access allow " + acl)
	}
	return l.write(w)
}

// appendNew appends s unless list holds it.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// coveredBy returns the squid domain in list (".example.com") that already matches d, or "".
func coveredBy(d string, list []string) string {
	for _, o := range list {
		if o == d || o[0] != '.' {
			continue
		}
		if d == o[1:] || strings.HasSuffix(d, o) {
			return o
		}
	}
	return ""
}

func usedACLs(domains, regexes, nets []string) []string {
	var out []string
	for _, a := range []struct {
		name string
		n    int
	}{{squidDomains, len(domains)}, {squidRegex, len(regexes)}, {squidNets, len(nets)}} {
		if a.n > 0 {
			out = append(out, a.name)
		}
	}
	return out
}

// writeCSV writes one line a selected row: pattern, ports, purpose, status and how many records matched it.
func writeCSV(w io.Writer, entries []entry) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"pattern", "ports", "purpose", "status", "evidence"})
	for _, e := range entries {
		r := e.row
		cw.Write([]string{cell(r.Pattern), cell(r.Ports), cell(r.Purpose), cell(r.Status), strconv.Itoa(evidence(r))})
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from reading a cell as a formula (=, +, -, @ first), by OWASP's advice.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
