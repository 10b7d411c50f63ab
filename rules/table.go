package rules

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
)

// Table is a merged set of requirement rows, the unit the matcher is built from.
type Table struct {
	Rules             []*Rule
	MicrosoftSuffixes []string // for "unlisted"; default list from the issue, overridable per file
	Sources           []string // the profiles/files merged into it, in order
	// Proxy is the policy the proxies seen are judged by: DefaultProxyPolicy, changed by each merged file's
	// `proxy:` keys in turn (a later file's key wins).
	Proxy ProxyPolicy
	proxy proxySetting // the keys the file itself gave, for Load to apply in turn
}

// DefaultProfile is the table used when no --rules is given: the requirements of the 2015 article.
const DefaultProfile = "intune-2015"

// The caps on a rule file, so that a hostile or mistaken one (a device, a huge download, YAML aliases that
// multiply rows) cannot exhaust memory or time; docs/rules.md lists them.
const (
	// maxRows bounds a table: 400 times the rows of Microsoft's whole 365 endpoint list.
	maxRows = 100_000
	// maxFileSize bounds a rule file, in bytes: the 365 endpoint list is 16 KB.
	maxFileSize = 4 << 20
	// maxYAMLNodes bounds the YAML nodes a file stands for once its aliases are expanded.
	maxYAMLNodes = 1_000_000
)

//go:embed profiles/*.yaml
var profileFS embed.FS

// defaultSuffixes is read-only; DefaultMicrosoftSuffixes hands out copies.
var defaultSuffixes = []string{
	"microsoft.com", "microsoft.net", "windows.net", "windows.com", "microsoftonline.com",
	"microsoftonline-p.com", "microsoftonline-p.net", "office.com", "office.net", "office365.com",
	"sharepoint.com", "onmicrosoft.com", "windowsupdate.com", "live.com", "live.net", "aka.ms", "msn.com",
	"bing.com", "azure.com", "azure.net", "azureedge.net", "msauth.net", "msftauth.net",
	"msftconnecttest.com", "microsoftazuread-sso.com", "msedge.net", "msft.net", "trafficmanager.net",
	"cloudapp.net", "aspnetcdn.com", "livemeeting.com", "technet.com", "nsatc.net",
}

// DefaultMicrosoftSuffixes is the list a name is judged "Microsoft-looking" by when a table file does not
// set its own: a name no row matches is "unlisted" under these suffixes and "other" elsewhere.
func DefaultMicrosoftSuffixes() []string {
	return append([]string(nil), defaultSuffixes...)
}

// Profiles lists the embedded tables by the names --rules accepts.
func Profiles() []string {
	entries, err := fs.ReadDir(profileFS, "profiles")
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Load builds the table for the given --rules values, each a profile name or a file path, merged in order
// (rows keep their own table and row, so a report can say where each came from). No spec means the default
// profile. A spec given twice is merged once.
func Load(specs []string) (*Table, error) {
	if len(specs) == 0 {
		specs = []string{DefaultProfile}
	}
	merged := &Table{Proxy: DefaultProxyPolicy()}
	seenSuffix := map[string]bool{}
	for _, spec := range specs {
		if slices.Contains(merged.Sources, spec) {
			continue
		}
		t, err := loadSpec(spec)
		if err != nil {
			return nil, err
		}
		merged.Rules = append(merged.Rules, t.Rules...)
		merged.Sources = append(merged.Sources, spec)
		merged.Proxy = t.proxy.apply(merged.Proxy)
		for _, s := range t.MicrosoftSuffixes {
			if !seenSuffix[s] {
				seenSuffix[s] = true
				merged.MicrosoftSuffixes = append(merged.MicrosoftSuffixes, s)
			}
		}
	}
	return merged, nil
}

// loadSpec resolves one --rules value. A bare word that names a profile is the profile; anything else is a
// file, so "./intune-2015" still reads a file of that name.
func loadSpec(spec string) (*Table, error) {
	if isProfileName(spec) {
		return loadProfile(spec)
	}
	t, err := LoadFile(spec)
	if err != nil && errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(spec, "/\\.") {
		return nil, fmt.Errorf("rules %q: not a profile (%s) nor a file: %w",
			spec, strings.Join(Profiles(), ", "), err)
	}
	return t, err
}

func isProfileName(spec string) bool {
	return !strings.ContainsAny(spec, "/\\.") && slices.Contains(Profiles(), spec)
}

// loadProfile returns the embedded profile name: built in Go (builtinTable), else read from its YAML.
func loadProfile(name string) (*Table, error) {
	if t := builtinTable(name); t != nil {
		return t, nil
	}
	file := path.Join("profiles", name+".yaml")
	data, err := profileFS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read profile %s: %w", name, err)
	}
	return parseTable(name, "rules/"+file, data)
}

// LoadFile reads one rule file: YAML, JSON of the same shape, or Microsoft's 365 endpoint web-service JSON
// (a top-level array), told apart by content so a downloaded file needs no renaming. Any problem is one
// error naming file:line:column; a table is never returned partially.
//
// The file must be a regular file (a device such as /dev/zero, a FIFO or a directory is refused) of at most
// maxFileSize bytes.
func LoadFile(path string) (*Table, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return parseTable(path, path, data)
}

// readFile reads a rule file within the caps.
func readFile(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() { // opening a FIFO waits for a writer
		return nil, &FileError{Path: path, Msg: fmt.Sprintf("not a regular file (%s)", fileKind(fi.Mode()))}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	if !fi.Mode().IsRegular() { // replaced since the first look
		return nil, &FileError{Path: path, Msg: fmt.Sprintf("not a regular file (%s)", fileKind(fi.Mode()))}
	}
	if fi.Size() > maxFileSize {
		return nil, &FileError{Path: path, Msg: fmt.Sprintf("%d bytes, over the %d-byte cap on a rule file", fi.Size(), maxFileSize)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1)) // the file may have grown since Stat
	if err != nil {
		return nil, fmt.Errorf("read rules %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, &FileError{Path: path, Msg: fmt.Sprintf("over the %d-byte cap on a rule file", maxFileSize)}
	}
	return data, nil
}

// fileKind names what a path that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// ParseTable is LoadFile for bytes already in memory; name becomes each row's Table.
func ParseTable(name string, data []byte) (*Table, error) {
	if len(data) > maxFileSize {
		return nil, &FileError{Path: name, Msg: fmt.Sprintf("%d bytes, over the %d-byte cap on a rule file", len(data), maxFileSize)}
	}
	return parseTable(name, name, data)
}

// parseTable detects the format. name labels the rows, file labels the errors.
func parseTable(name, file string, data []byte) (*Table, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	b := &builder{name: name, file: file}
	var err error
	switch firstByte(data) {
	case 0:
		return nil, &FileError{Path: file, Msg: "empty file (expected a rules table)"}
	case '[':
		err = b.m365(data)
	case '{':
		err = b.json(data)
	default:
		err = b.yaml(data)
	}
	if err != nil {
		return nil, err
	}
	return b.table()
}

func firstByte(data []byte) byte {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return 0
	}
	return trimmed[0]
}

// rowSpec is one row as read from any format, with the places of its parts for error messages.
type rowSpec struct {
	at           pos
	id, purpose  string
	notes        string
	patterns     []posString
	cidrs        []posString
	ports        []posString // each with its default transport
	probes       []posString // concrete hosts for "intunecap probe"; each must match one of patterns
	required     bool
	noInspection bool
}

type posString struct {
	s     string
	at    pos
	proto Proto  // default transport, for ports
	field string // names the field in errors when the position alone does not (JSON rows)
}

// builder turns rowSpecs into rules, numbering rows as it goes.
type builder struct {
	name, file  string
	rules       []*Rule
	suffixes    []posString
	hasSuffixes bool
	addSuffixes []posString
	anyRows     bool
	proxy       proxySetting
}

func (b *builder) add(rs rowSpec) error {
	b.anyRows = true
	ports, err := b.ports(rs)
	if err != nil {
		return err
	}
	base := Rule{Table: b.name, ID: rs.id, Purpose: rs.purpose, Ports: ports, Required: rs.required,
		NoInspection: rs.noInspection, Notes: rs.notes}
	if len(rs.patterns) == 0 && len(rs.cidrs) == 0 {
		if len(ports) > 0 {
			return rs.at.errorf(b.file, "ports without a pattern or cidr (a note row carries text only)")
		}
		if len(rs.probes) > 0 {
			return rs.probes[0].at.errorf(b.file, "probe: a note row has no pattern for its hosts to match")
		}
		if rs.purpose == "" && rs.notes == "" {
			return rs.at.errorf(b.file, "empty row (expected a pattern, a cidr, or a note's purpose/notes)")
		}
		return b.push(base)
	}
	if len(ports) == 0 {
		return rs.at.errorf(b.file, "missing ports (expected ports such as \"80,443\" or \"udp/123\")")
	}
	return b.expand(rs, base)
}

func (b *builder) expand(rs rowSpec, base Rule) error {
	pats := make([]pattern, len(rs.patterns))
	for i, p := range rs.patterns {
		pat, err := parsePattern(p.s)
		if err != nil {
			return p.at.errorf(b.file, "%v", err)
		}
		pats[i] = pat
	}
	probes, err := b.probeHosts(rs, pats)
	if err != nil {
		return err
	}
	for i, p := range rs.patterns {
		r := base
		r.Pattern = p.s
		r.Probe = probes[i]
		if err := b.push(r); err != nil {
			return err
		}
	}
	for _, c := range rs.cidrs {
		prefix, err := parseCIDR(c.s)
		if err != nil {
			return c.at.errorf(b.file, "%v", err)
		}
		r := base
		r.Prefix = prefix
		if err := b.push(r); err != nil {
			return err
		}
	}
	return nil
}

// probeHosts gives each pattern of the row the probe hosts it matches. A probe host is a plain name (no
// wildcard) that matches at least one of the row's patterns; anything else is an error, so a typo in a probe
// list cannot send "intunecap probe" to a name the row does not cover.
func (b *builder) probeHosts(rs rowSpec, pats []pattern) ([][]string, error) {
	out := make([][]string, len(pats))
	for _, h := range rs.probes {
		host, err := parseDomain(h.s)
		if err != nil {
			return nil, h.at.errorf(b.file, "probe: %v", err)
		}
		found := false
		for i, pat := range pats {
			if pat.matches(host) && !slices.Contains(out[i], host) {
				out[i] = append(out[i], host)
				found = true
			}
		}
		if !found {
			return nil, h.at.errorf(b.file, "probe: host %q does not match the row's pattern (%s)", h.s,
				strings.Join(patternList(rs.patterns), ", "))
		}
	}
	return out, nil
}

func patternList(ps []posString) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.s
	}
	if len(out) == 0 {
		return []string{"none: a cidr or note row has no host to probe"}
	}
	return out
}

func (b *builder) push(r Rule) error {
	if len(b.rules) >= maxRows {
		return &FileError{Path: b.file, Msg: fmt.Sprintf("more than %d rows", maxRows)}
	}
	r.Row = len(b.rules) + 1
	r.Ports = append([]PortRange(nil), r.Ports...)
	r.Probe = slices.Clone(r.Probe)
	b.rules = append(b.rules, &r)
	return nil
}

func (b *builder) ports(rs rowSpec) ([]PortRange, error) {
	var out []PortRange
	for _, p := range rs.ports {
		if strings.TrimSpace(p.s) == "" {
			continue
		}
		prs, err := parsePorts(p.s, p.proto)
		if err != nil && p.field != "" {
			return nil, p.at.errorf(b.file, "%s: %v", p.field, err)
		}
		if err != nil {
			return nil, p.at.errorf(b.file, "%v", err)
		}
		out = append(out, prs...)
	}
	return out, nil
}

func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad cidr %q (expected an address/length such as 13.107.219.0/24)", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("bad cidr %q: host bits set (did you mean %s?)", s, p.Masked())
	}
	return p, nil
}

// table finishes the build: suffixes checked and defaulted, and at least one row.
func (b *builder) table() (*Table, error) {
	if !b.anyRows {
		return nil, &FileError{Path: b.file, Msg: "no rules (expected at least one row)"}
	}
	list := b.suffixes
	if !b.hasSuffixes {
		for _, s := range defaultSuffixes {
			list = append(list, posString{s: s})
		}
	}
	list = append(list, b.addSuffixes...)
	suffixes := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		d, err := parseDomain(s.s)
		if err != nil {
			return nil, s.at.errorf(b.file, "microsoft suffix: %v", err)
		}
		if !seen[d] {
			seen[d] = true
			suffixes = append(suffixes, d)
		}
	}
	return &Table{Rules: b.rules, MicrosoftSuffixes: suffixes, Sources: []string{b.name},
		Proxy: b.proxy.apply(DefaultProxyPolicy()), proxy: b.proxy}, nil
}
