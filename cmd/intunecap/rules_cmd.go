package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/rules"
)

const rulesUsage = `usage: intunecap rules <command> [flags] [args]

Inspect the requirement tables intunecap judges connections by.

Commands:
  list [--rules SPEC]... [--format text|json]       print the rows of a table
  check FILE...                                     validate rule files
  match [--rules SPEC]... [--udp] TARGET [PORT]     show the row and verdict for a connection
  diff A B                                          show rows in one table and not the other

A SPEC is a profile name (%s) or a file (YAML, JSON or
Microsoft 365 endpoint JSON). Run "intunecap rules <command> -h" for a command's flags.
`

// runRules implements "intunecap rules". Exit status: 0 fine, 1 a check failed, a match was not allowed or
// a diff found differences, 2 usage or load error.
func runRules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, rulesUsage, profileList())
		return 2
	}
	switch args[0] {
	case "list":
		return rulesList(args[1:], stdout, stderr)
	case "check":
		return rulesCheck(args[1:], stdout, stderr)
	case "match":
		return rulesMatch(args[1:], stdout, stderr)
	case "diff":
		return rulesDiff(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintf(stderr, rulesUsage, profileList())
		return 0
	}
	fmt.Fprintf(stderr, "intunecap rules: unknown command %q\n\n", args[0])
	fmt.Fprintf(stderr, rulesUsage, profileList())
	return 2
}

func profileList() string { return strings.Join(rules.Profiles(), ", ") }

// newRulesFlags makes a subcommand's flag set; usage goes to stderr, like every usage text of the tool.
func newRulesFlags(name, usage string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("rules "+name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		if fs.HasFlags() {
			fmt.Fprint(stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseRulesFlags parses args; ok false means return code (0 for -h, 2 for a usage error).
func parseRulesFlags(fs *pflag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(fs.Output(), "intunecap %s: %v\nRun 'intunecap %s -h' for usage.\n", fs.Name(), err, fs.Name())
		return 2, false
	}
	return 0, true
}

func addRulesFlag(fs *pflag.FlagSet, specs *[]string) {
	fs.StringArrayVarP(specs, "rules", "r", nil, "requirement table: a profile name ("+profileList()+
		") or a `SPEC` file; repeat to merge (default "+rules.DefaultProfile+")")
}

func addFormatFlag(fs *pflag.FlagSet, format *string) {
	fs.StringVarP(format, "format", "f", "text", "output format: text or json")
}

func checkFormat(name, format string, stderr io.Writer) bool {
	if format == "text" || format == "json" {
		return true
	}
	fmt.Fprintf(stderr, "intunecap rules %s: unknown format %q (expected text or json)\n", name, format)
	return false
}

// ---- list ----

const rulesListUsage = `usage: intunecap rules list [--rules SPEC]... [--format text|json]

Print every row of the requirement table: where it comes from (table:row), its id,
pattern or address range, ports and purpose. Note rows (no pattern) are listed too.
Exit status: 0, or 2 if a table cannot be loaded.
`

func rulesList(args []string, stdout, stderr io.Writer) int {
	var specs []string
	var format string
	fs := newRulesFlags("list", rulesListUsage, stderr)
	addRulesFlag(fs, &specs)
	addFormatFlag(fs, &format)
	if code, ok := parseRulesFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "intunecap rules list: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if !checkFormat("list", format, stderr) {
		return 2
	}
	table, err := rules.Load(specs)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap rules list: %s\n", safe(err.Error()))
		return 2
	}
	if format == "json" {
		return writeJSON(stdout, stderr, listJSON(table))
	}
	writeRowsText(stdout, table.Rules)
	return 0
}

// ruleListJSON is one row in "rules list --format json".
type ruleListJSON struct {
	Key          string `json:"key"`
	Table        string `json:"table"`
	Row          int    `json:"row"`
	ID           string `json:"id"`
	Purpose      string `json:"purpose"`
	Pattern      string `json:"pattern"`
	CIDR         string `json:"cidr"`
	Ports        string `json:"ports"`
	Required     bool   `json:"required"`
	NoInspection bool   `json:"no_inspection"`
	Notes        string `json:"notes"`
}

type tableJSON struct {
	Sources           []string       `json:"sources"`
	MicrosoftSuffixes []string       `json:"microsoft_suffixes"`
	Rules             []ruleListJSON `json:"rules"`
}

func listJSON(t *rules.Table) tableJSON {
	out := tableJSON{Sources: t.Sources, MicrosoftSuffixes: t.MicrosoftSuffixes, Rules: []ruleListJSON{}}
	for _, r := range t.Rules {
		cidr := ""
		if r.Prefix.IsValid() {
			cidr = r.Prefix.String()
		}
		out.Rules = append(out.Rules, ruleListJSON{Key: r.Key(), Table: r.Table, Row: r.Row, ID: r.ID,
			Purpose: r.Purpose, Pattern: r.Pattern, CIDR: cidr, Ports: r.PortsString(), Required: r.Required,
			NoInspection: r.NoInspection, Notes: r.Notes})
	}
	return out
}

func writeRowsText(w io.Writer, rows []*rules.Rule) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tID\tPATTERN\tPORTS\tPURPOSE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safe(r.Key()), safe(dash(r.ID)), safe(dash(r.Target())),
			dash(r.PortsString()), safe(rowPurpose(r)))
	}
	tw.Flush()
}

func rowPurpose(r *rules.Rule) string {
	p := r.Purpose
	if r.NoInspection {
		p += " [no TLS inspection]"
	}
	if r.IsNote() && r.Notes != "" {
		p += " (note: " + r.Notes + ")"
	}
	return p
}

// safe escapes text from a rule file (or a path or name the user typed) for a terminal: a row's purpose or
// notes could hold escape sequences that rewrite the screen. Tabs are escaped too, so a purpose cannot shift
// the columns of a list. JSON output relies on JSON's own escaping instead.
func safe(s string) string { return safetext.Text(s) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "intunecap rules: write json: %v\n", err)
		return 2
	}
	return 0
}

// ---- check ----

const rulesCheckUsage = `usage: intunecap rules check FILE...

Validate rule files (YAML, JSON or Microsoft 365 endpoint JSON; profile names are
accepted too). Each good file gets one "ok" line on standard output; each bad one
one error on standard error naming file:line:column and what was expected.
Exit status: 0 all files are good, 1 some file is bad, 2 usage error.
`

func rulesCheck(args []string, stdout, stderr io.Writer) int {
	fs := newRulesFlags("check", rulesCheckUsage, stderr)
	if code, ok := parseRulesFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "intunecap rules check: no file given")
		return 2
	}
	code := 0
	for _, file := range fs.Args() {
		table, err := rules.Load([]string{file})
		if err != nil {
			fmt.Fprintf(stderr, "%s\n", safe(err.Error()))
			code = 1
			continue
		}
		notes := 0
		for _, r := range table.Rules {
			if r.IsNote() {
				notes++
			}
		}
		fmt.Fprintf(stdout, "%s: ok, %d rows (%d matchable, %d notes), %d microsoft suffixes\n", safe(file),
			len(table.Rules), len(table.Rules)-notes, notes, len(table.MicrosoftSuffixes))
	}
	return code
}

// ---- match ----

const rulesMatchUsage = `usage: intunecap rules match [--rules SPEC]... [--format text|json] [--udp] TARGET [PORT]

Show which row applies to a connection to TARGET (a name, or for an address, which
address range), the verdict that connection would get if it succeeded (allowed,
port-not-allowed, unlisted or other), and every row that matched. TARGET is one of
  NAME  NAME:PORT  ADDR  IPv4:PORT  [IPv6]  [IPv6]:PORT
  a URL: https://NAME/path (port 443), http://NAME/ (80), https://NAME:8443/, https://[IPv6]/
PORT defaults to 443; give it once, in TARGET or after it. Unicode names are
converted to their punycode form first.
Exit status: 0 the connection would be allowed, 1 any other verdict, 2 usage or
load error.
`

func rulesMatch(args []string, stdout, stderr io.Writer) int {
	var specs []string
	var format string
	var udp bool
	fs := newRulesFlags("match", rulesMatchUsage, stderr)
	addRulesFlag(fs, &specs)
	addFormatFlag(fs, &format)
	fs.BoolVarP(&udp, "udp", "u", false, "the connection is UDP (default TCP)")
	if code, ok := parseRulesFlags(fs, args); !ok {
		return code
	}
	q, err := parseMatchArgs(fs.Args(), udp)
	if err == nil && !checkFormat("match", format, stderr) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "intunecap rules match: %s\n", safe(err.Error()))
		return 2
	}
	table, err := rules.Load(specs)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap rules match: %s\n", safe(err.Error()))
		return 2
	}
	res := q.run(rules.NewMatcher(table))
	if format == "json" {
		if code := writeJSON(stdout, stderr, res.json()); code != 0 {
			return code
		}
	} else {
		res.text(stdout)
	}
	if res.verdict == rules.Allowed {
		return 0
	}
	return 1
}

// matchQuery is a parsed "rules match" command line.
type matchQuery struct {
	name  string
	addr  netip.Addr
	proto rules.Proto
	port  uint16
}

func parseMatchArgs(args []string, udp bool) (matchQuery, error) {
	q := matchQuery{proto: rules.TCP, port: 443}
	if udp {
		q.proto = rules.UDP
	}
	if len(args) == 0 || len(args) > 2 {
		return q, fmt.Errorf("expected NAME [PORT], got %d arguments", len(args))
	}
	t, err := parseTarget(args[0])
	if err != nil {
		return q, err
	}
	if t.port != 0 {
		q.port = t.port
	}
	if len(args) == 2 {
		if t.port != 0 {
			return q, fmt.Errorf("port given twice: in %q and as %q", args[0], args[1])
		}
		n, err := parsePort(args[1])
		if err != nil {
			return q, err
		}
		q.port = n
	}
	q.name, q.addr = t.name, t.addr
	return q, nil
}

// matchTarget is what the first argument of "rules match" names: a host name or an address, and the port
// it gives (0 when none).
type matchTarget struct {
	name string
	addr netip.Addr
	port uint16
}

// schemePorts are the default ports of the URL schemes "rules match" knows.
var schemePorts = map[string]uint16{"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

// parseTarget reads NAME, ADDR, NAME:PORT, ADDR:PORT, [IPv6], [IPv6]:PORT or a URL (scheme://host[:port]/...,
// whose port defaults to the scheme's).
func parseTarget(s string) (matchTarget, error) {
	if a, err := netip.ParseAddr(s); err == nil { // a bare IPv6 address has colons but no port
		return addrTarget(s, a, 0)
	}
	if strings.Contains(s, "://") {
		return parseURL(s)
	}
	if strings.Contains(s, "/") {
		return matchTarget{}, fmt.Errorf("bad name %q: a path needs a URL with its scheme (https://%s)", s, s)
	}
	host, port, bracketed := s, uint16(0), strings.HasPrefix(s, "[")
	switch {
	case bracketed && strings.HasSuffix(s, "]"):
		host = s[1 : len(s)-1]
	case strings.Contains(s, ":"):
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return matchTarget{}, fmt.Errorf("bad name %q (expected NAME, NAME:PORT, ADDR, [IPv6]:PORT or a URL)", s)
		}
		if port, err = parsePort(p); err != nil {
			return matchTarget{}, err
		}
		host = h
	}
	return splitTarget(s, host, port, bracketed)
}

// parseURL reads scheme://host[:port]/...; the port defaults to the scheme's.
func parseURL(s string) (matchTarget, error) {
	u, err := url.Parse(s)
	if err != nil {
		return matchTarget{}, fmt.Errorf("bad URL %q: %v", s, strings.TrimPrefix(err.Error(), "parse "+strconv.Quote(s)+": "))
	}
	if u.Hostname() == "" {
		return matchTarget{}, fmt.Errorf("bad URL %q: no host", s)
	}
	port, ok := schemePorts[strings.ToLower(u.Scheme)]
	if p := u.Port(); p != "" {
		if port, err = parsePort(p); err != nil {
			return matchTarget{}, err
		}
	} else if !ok {
		return matchTarget{}, fmt.Errorf("bad URL %q: no default port for scheme %q (give one: %s://%s:PORT)",
			s, u.Scheme, u.Scheme, u.Host)
	}
	return splitTarget(s, u.Hostname(), port, strings.HasPrefix(u.Host, "["))
}

// splitTarget is the target for a host and port taken out of arg; a host in brackets must be an IPv6 address.
func splitTarget(arg, host string, port uint16, bracketed bool) (matchTarget, error) {
	if !bracketed {
		return hostTarget(arg, host, port)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is6() || a.Is4In6() {
		return matchTarget{}, fmt.Errorf("bad address %q: brackets hold an IPv6 address", arg)
	}
	return addrTarget(arg, a, port)
}

// hostTarget is a name, or an IPv4 address written where a name goes (name:port, a URL's host).
func hostTarget(arg, host string, port uint16) (matchTarget, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return addrTarget(arg, a, port)
	}
	name, err := rules.ToASCII(host)
	if err != nil {
		return matchTarget{}, fmt.Errorf("bad name %q: %w", arg, err)
	}
	return matchTarget{name: name, port: port}, nil
}

// addrTarget is an address; a zone (fe80::1%eth0) means nothing to a rule table.
func addrTarget(arg string, a netip.Addr, port uint16) (matchTarget, error) {
	if a.Zone() != "" {
		return matchTarget{}, fmt.Errorf("bad address %q: a zone (%%%s) means nothing to a rule table", arg, a.Zone())
	}
	return matchTarget{addr: a.Unmap(), port: port}, nil
}

// parsePort reads a port from 1 to 65535.
func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q (expected a number from 1 to 65535)", s)
	}
	return uint16(n), nil
}

// matchResult is what "rules match" prints.
type matchResult struct {
	q       matchQuery
	best    *rules.Rule
	verdict rules.Verdict
	all     []*rules.Rule
}

func (q matchQuery) run(m *rules.Matcher) matchResult {
	res := matchResult{q: q}
	if q.addr.IsValid() {
		match := m.MatchAddr(q.addr, q.proto, q.port)
		res.best, res.verdict = match.Rule, rules.Other
		if match.Rule != nil {
			res.all = []*rules.Rule{match.Rule}
			res.verdict = rules.PortNotAllowed
			if match.PortAllowed {
				res.verdict = rules.Allowed
			}
		}
		return res
	}
	var match rules.Match
	match, res.verdict = m.Judge(q.name, q.proto, q.port)
	res.best = match.Rule
	res.all = m.MatchAll(q.name, nil)
	return res
}

func (q matchQuery) target() string {
	if q.addr.IsValid() {
		return q.addr.String()
	}
	return q.name
}

// matchRuleJSON is the "rule" object of "rules match --format json", in the shape issue 3 fixes.
type matchRuleJSON struct {
	Pattern string `json:"pattern"`
	Ports   string `json:"ports"`
	Purpose string `json:"purpose"`
	Table   string `json:"table"`
	ID      string `json:"id"`
}

type matchJSON struct {
	Name    string          `json:"name"`
	Port    uint16          `json:"port"`
	Verdict rules.Verdict   `json:"verdict"`
	Rule    *matchRuleJSON  `json:"rule"`
	Matches []matchRuleJSON `json:"matches"`
}

func toMatchRule(r *rules.Rule) matchRuleJSON {
	return matchRuleJSON{Pattern: r.Target(), Ports: r.PortsString(), Purpose: r.Purpose, Table: r.Table, ID: r.ID}
}

func (res matchResult) json() matchJSON {
	out := matchJSON{Name: res.q.target(), Port: res.q.port, Verdict: res.verdict, Matches: []matchRuleJSON{}}
	if res.best != nil {
		r := toMatchRule(res.best)
		out.Rule = &r
	}
	for _, r := range res.all {
		out.Matches = append(out.Matches, toMatchRule(r))
	}
	return out
}

func (res matchResult) text(w io.Writer) {
	fmt.Fprintf(w, "name:     %s\n", safe(res.q.target()))
	fmt.Fprintf(w, "port:     %s/%d\n", res.q.proto, res.q.port)
	fmt.Fprintf(w, "verdict:  %s\n", res.verdict)
	if res.best == nil {
		fmt.Fprintln(w, "rule:     none")
		return
	}
	fmt.Fprintf(w, "rule:     %s %s (%s) %s\n", safe(res.best.Key()), safe(res.best.Target()), res.best.PortsString(),
		safe(rowPurpose(res.best)))
	fmt.Fprintf(w, "matches:  %d\n", len(res.all))
	if len(res.all) > 0 {
		writeRowsText(w, res.all)
	}
}

// ---- diff ----

const rulesDiffUsage = `usage: intunecap rules diff A B

Compare two tables (profile names or files) by pattern or address range:
  - PATTERN PORTS   only in A
  + PATTERN PORTS   only in B
  ~ PATTERN PORTS-A -> PORTS-B   in both, with different ports
Rows with the same pattern in one table are merged; note rows compare by purpose.
Exit status: 0 no difference, 1 differences, 2 usage or load error.
`

func rulesDiff(args []string, stdout, stderr io.Writer) int {
	fs := newRulesFlags("diff", rulesDiffUsage, stderr)
	if code, ok := parseRulesFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "intunecap rules diff: expected two tables, got %d\n", fs.NArg())
		return 2
	}
	var sides [2]diffSide
	for i, spec := range fs.Args() {
		t, err := rules.Load([]string{spec})
		if err != nil {
			fmt.Fprintf(stderr, "intunecap rules diff: %s\n", safe(err.Error()))
			return 2
		}
		sides[i] = newDiffSide(t)
	}
	lines := diffLines(sides[0], sides[1])
	for _, l := range lines {
		fmt.Fprintln(stdout, safe(l))
	}
	if len(lines) == 0 {
		return 0
	}
	return 1
}

// diffSide is one table reduced to target -> ports, in first-seen order.
type diffSide struct {
	order []string
	ports map[string][]rules.PortRange
}

func newDiffSide(t *rules.Table) diffSide {
	d := diffSide{ports: map[string][]rules.PortRange{}}
	for _, r := range t.Rules {
		key := diffKey(r)
		if _, ok := d.ports[key]; !ok {
			d.order = append(d.order, key)
		}
		d.ports[key] = append(d.ports[key], r.Ports...)
	}
	return d
}

// diffKey compares patterns in their matching form (case, trailing dot and Unicode aside).
func diffKey(r *rules.Rule) string {
	if r.IsNote() {
		return "(note) " + r.Purpose
	}
	if r.Pattern == "" {
		return r.Prefix.String()
	}
	if a, err := rules.ToASCII(r.Pattern); err == nil {
		return a
	}
	return r.Pattern
}

func diffLines(a, b diffSide) []string {
	var out []string
	for _, k := range a.order {
		pb, ok := b.ports[k]
		pa := portSet(a.ports[k])
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("- %s %s", k, pa))
		case pa != portSet(pb):
			out = append(out, fmt.Sprintf("~ %s %s -> %s", k, pa, portSet(pb)))
		}
	}
	for _, k := range b.order {
		if _, ok := a.ports[k]; !ok {
			out = append(out, fmt.Sprintf("+ %s %s", k, portSet(b.ports[k])))
		}
	}
	return out
}

// portSet renders merged ranges in a canonical order, so the same ports compare equal however written.
func portSet(prs []rules.PortRange) string {
	s := append([]rules.PortRange(nil), prs...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Proto != s[j].Proto {
			return s[i].Proto < s[j].Proto
		}
		return s[i].Lo < s[j].Lo || (s[i].Lo == s[j].Lo && s[i].Hi < s[j].Hi)
	})
	uniq := s[:0]
	for i, pr := range s {
		if i == 0 || pr != s[i-1] {
			uniq = append(uniq, pr)
		}
	}
	return dash(rules.FormatPorts(uniq))
}
