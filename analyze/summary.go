package analyze

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/intunecap/intunecap/proxies"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// maxUnlistedNames bounds the distinct unlisted names listed with their counts. Past it the list keeps the
// lexicographically smallest names (unlistedSet): a choice that does not depend on the order records come in,
// so the list is the same for any number of workers, and the counts of the names kept are exact. The records
// of the names left out are counted, and the distinct names estimated.
const maxUnlistedNames = 10000

// maxNamesPerRule bounds the example names kept per requirement row.
const maxNamesPerRule = 20

// statsAgg folds records into the per-requirement summary as they are reported, so nothing per record is kept.
type statsAgg struct {
	table    *rules.Table
	failOn   map[rules.Verdict]bool
	byRule   map[*rules.Rule]*ruleAgg
	keys     map[string]*rules.Rule
	keyOf    map[*rules.Rule]string // the inverse of keys: a record's rule_key without building the string
	verdicts map[string]int
	unlisted unlistedSet
	failing  int
	proxies  *proxies.Tally
}

type ruleAgg struct {
	verdicts map[string]int
	names    map[string]struct{}
	filters  []orderedFilter // the earliest failing records' display filters, by capture position
}

func newStatsAgg(t *rules.Table, failOn []rules.Verdict) *statsAgg {
	s := &statsAgg{
		table:    t,
		failOn:   make(map[rules.Verdict]bool),
		byRule:   make(map[*rules.Rule]*ruleAgg),
		verdicts: make(map[string]int),
		unlisted: newUnlistedSet(maxUnlistedNames),
		keys:     make(map[string]*rules.Rule, len(t.Rules)),
		proxies:  proxies.New(),
		keyOf:    make(map[*rules.Rule]string, len(t.Rules)),
	}
	for _, r := range t.Rules {
		k := r.Key()
		s.keys[k], s.keyOf[r] = r, k
	}
	for _, v := range failOn {
		s.failOn[v] = true
	}
	return s
}

// add counts one record under its verdict, its rule and, if unlisted, its name. Every record passes here
// exactly once before it is written, so this is also where a record that is not plainly allowed gets its
// Wireshark display filter.
func (s *statsAgg) add(r *result.Record) {
	if r.Verdict != rules.Allowed && r.Verdict != rules.Other && r.DisplayFilter == "" {
		r.DisplayFilter = result.DisplayFilter(r)
	}
	s.proxies.Add(r)
	s.verdicts[string(r.Verdict)]++
	if s.failOn[r.Verdict] {
		s.failing++
	}
	if r.Verdict == rules.Unlisted {
		s.unlisted.add(r.Name, 1)
	}
	if r.RuleKey == "" {
		return
	}
	rule := s.ruleByKey(r.RuleKey)
	if rule == nil {
		return
	}
	a := s.byRule[rule]
	if a == nil {
		a = &ruleAgg{verdicts: make(map[string]int), names: make(map[string]struct{})}
		s.byRule[rule] = a
	}
	a.verdicts[string(r.Verdict)]++
	if r.Name != "" {
		a.addName(r.Name)
	}
	if s.failOn[r.Verdict] {
		a.addFilter(r.Order, r.DisplayFilter)
	}
}

// maxFiltersPerRule bounds the failing records a requirement's display filter ORs together.
const maxFiltersPerRule = 10

// orderedFilter is a failing record's display filter with its capture position.
type orderedFilter struct {
	order  uint64
	filter string
}

// addFilter keeps the filters of the maxFiltersPerRule earliest failing records: a choice that does not
// depend on the order records come in, so engines that split the work agree with one engine.
func (a *ruleAgg) addFilter(order uint64, filter string) {
	if filter == "" {
		return
	}
	i, _ := slices.BinarySearchFunc(a.filters, order, func(f orderedFilter, o uint64) int { return cmp.Compare(f.order, o) })
	if i >= maxFiltersPerRule {
		return
	}
	a.filters = slices.Insert(a.filters, i, orderedFilter{order, filter})
	if len(a.filters) > maxFiltersPerRule {
		a.filters = a.filters[:maxFiltersPerRule]
	}
}

// addName keeps the maxNamesPerRule smallest names: a choice that does not depend on the order records come in,
// so engines that split the work agree with one engine.
func (a *ruleAgg) addName(n string) {
	if _, ok := a.names[n]; ok {
		return
	}
	if len(a.names) < maxNamesPerRule {
		a.names[n] = struct{}{}
		return
	}
	largest := ""
	for m := range a.names {
		if m > largest {
			largest = m
		}
	}
	if n < largest {
		delete(a.names, largest)
		a.names[n] = struct{}{}
	}
}

// merge adds another engine's counts to s.
func (s *statsAgg) merge(o *statsAgg) {
	for v, n := range o.verdicts {
		s.verdicts[v] += n
	}
	s.failing += o.failing
	s.proxies.Merge(o.proxies)
	s.unlisted.merge(&o.unlisted)
	for rule, oa := range o.byRule {
		a := s.byRule[rule]
		if a == nil {
			a = &ruleAgg{verdicts: make(map[string]int), names: make(map[string]struct{})}
			s.byRule[rule] = a
		}
		for v, n := range oa.verdicts {
			a.verdicts[v] += n
		}
		for name := range oa.names {
			a.addName(name)
		}
		for _, f := range oa.filters {
			a.addFilter(f.order, f.filter)
		}
	}
}

// ruleKey is rule.Key(), for a row of the table without building it again.
func (s *statsAgg) ruleKey(rule *rules.Rule) string {
	if k, ok := s.keyOf[rule]; ok {
		return k
	}
	return rule.Key()
}

// ruleByKey finds the table row a record names.
func (s *statsAgg) ruleByKey(key string) *rules.Rule { return s.keys[key] }

// summary assembles the summary record from what was counted.
func (e *Engine) summary(facts result.CaptureFacts) result.Summary {
	s := e.stats
	out := result.Summary{Type: "summary", Verdicts: s.verdicts, Failing: s.failing, Unlisted: []result.NameCount{}}
	for _, rule := range s.table.Rules {
		out.Rules = append(out.Rules, ruleSummary(rule, s.byRule[rule]))
	}
	for name, n := range s.unlisted.counts {
		out.Unlisted = append(out.Unlisted, result.NameCount{Name: name, Count: n})
	}
	if n, estimated := s.unlisted.distinct(); estimated { // else every name is in the list, which says it all
		out.UnlistedNames, out.UnlistedNamesEstimated = n, true
		out.UnlistedOmitted = s.unlisted.omitted
	}
	slices.SortFunc(out.Unlisted, func(a, b result.NameCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	out.Capture = e.captureFacts(facts)
	s.addProxies(&out)
	return out
}

// proxyPurpose is the purpose of every proxy requirement row: the requirements document's two proxy rules.
const proxyPurpose = "Proxy requirements: HTTP and HTTPS carried, no authentication asked"

// addProxies judges the proxies seen under the table's proxy policy, and lists their requirements among the
// requirement rows (table "proxy", after the table's own rows).
func (s *statsAgg) addProxies(out *result.Summary) {
	list := s.proxies.Proxies(s.table.Proxy)
	if len(list) == 0 {
		return
	}
	out.Proxies = list
	for i := range list {
		p := &list[i]
		_, port, _ := strings.Cut(p.Address[strings.LastIndexByte(p.Address, ']')+1:], ":")
		for _, req := range []struct {
			name, what string
			status     result.ProxyRequirementStatus
		}{
			{"http", "plain HTTP", p.Requirements.HTTP},
			{"https", "HTTPS (CONNECT)", p.Requirements.HTTPS},
			{"unauthenticated", "no authentication", p.Requirements.Unauthenticated},
		} {
			if req.status == "" {
				continue
			}
			out.Rules = append(out.Rules, result.RuleSummary{Key: "proxy:" + p.Address + ":" + req.name,
				Table: "proxy", Purpose: proxyPurpose, Pattern: p.Address + " " + req.what, Ports: port,
				Status: string(req.status)})
			if req.status == result.ProxyFailing {
				out.ProxyFailing++
			}
		}
	}
}

func ruleSummary(rule *rules.Rule, a *ruleAgg) result.RuleSummary {
	rs := result.RuleSummary{
		Key: rule.Key(), Table: rule.Table, Row: rule.Row, ID: rule.ID, Purpose: rule.Purpose,
		Pattern: rule.Pattern, Ports: rule.PortsString(), Status: "not-seen",
	}
	if rs.Pattern == "" && rule.Prefix.IsValid() {
		rs.Pattern = rule.Prefix.String()
	}
	if a == nil {
		return rs
	}
	rs.Verdicts = a.verdicts
	switch {
	case a.verdicts[string(rules.Blocked)]+a.verdicts[string(rules.Reset)]+a.verdicts[string(rules.Intercepted)] > 0:
		rs.Status = "failing"
	case a.verdicts[string(rules.Allowed)] > 0:
		rs.Status = "ok"
	}
	for n := range a.names {
		rs.Names = append(rs.Names, n)
	}
	if rs.Status == "failing" {
		filters := make([]string, len(a.filters))
		for i, f := range a.filters {
			filters[i] = f.filter
		}
		rs.DisplayFilter = result.JoinFilters(filters, maxFiltersPerRule)
	}
	slices.Sort(rs.Names)
	return rs
}

// captureFacts adds the engine's counts to what the caller knows of the input.
func (e *Engine) captureFacts(f result.CaptureFacts) result.CaptureFacts {
	ef := &e.facts
	f.Packets, f.Bytes = ef.packets, ef.bytes
	if !ef.first.IsZero() {
		f.First = ef.first.UTC().Format(time.RFC3339Nano)
		f.Last = ef.last.UTC().Format(time.RFC3339Nano)
		f.Duration = ef.last.Sub(ef.first).Seconds()
	}
	f.Connections, f.DNSExchanges = ef.connections, ef.dnsExchanges
	q := &f.Quality
	q.Truncated, q.Undecodable = ef.truncated, ef.undecodable
	q.OneSided, q.MidStream = ef.oneSided, ef.midstream
	q.Evicted, q.ParserPanics = ef.evicted, ef.panics
	q.Duplicates, q.UndecodableDNS = ef.duplicates, ef.undecodableDNS
	q.TimeJumps = ef.timeJumps
	q.OverlapConflicts, q.StreamGapsOverCap = ef.overlaps, ef.gapsOverCap
	q.DNSFalseCounts, q.DNSNamesEvicted = ef.dnsFalseCounts, e.names.evicted
	ef.icmp.fill(q)
	ef.quality.fill(q)
	if f.Files == nil {
		f.Files = []string{}
	}
	if f.LinkTypes == nil {
		f.LinkTypes = []string{}
	}
	return f
}
