package rules

import "sort"

// Match is the row that applies to a connection and whether it allows the connection's port.
type Match struct {
	Rule        *Rule // nil when nothing matched
	PortAllowed bool
}

// Matcher answers, for every named connection of a capture, which row applies. It is built once from a
// table and is safe for concurrent use; lookups do not allocate, and their cost grows with the length of
// the name, not with the number of rows.
//
// Every pattern is filed in one open-addressing hash table under its literal part (the name for an exact
// pattern, ".suffix" for "*.suffix", "suffix" for "*suffix"). A lookup walks the name once from its end,
// hashing each suffix incrementally, and probes only at positions where some pattern could end: the start
// of the name, a dot (for "*." patterns) and suffix lengths that some "*x" pattern has.
type Matcher struct {
	table   *Table
	rules   []nameRule
	entries []entry
	slots   []slot
	shift   uint8
	filter  []uint64 // one bit per mixed hash: most probes that would miss stop here, in L1 cache
	fshift  uint8
	probe   [256]uint8 // per key length: probeText if a "*x" key has it, probeSub if a "*.x" key has it
	cidr    cidrIndex
	ms      map[string]struct{}
}

// nameRule is a name row compiled for matching; order is its position in the table (precedence ties).
type nameRule struct {
	rule  *Rule
	kind  patternKind
	order int32
}

// entry is every row filed under one literal, as a run of indexes into rowIdx.
type entry struct {
	key    string
	rowIdx []int32
}

type slot struct {
	hash  uint64
	entry int32 // index+1 into entries; 0 is an empty slot
}

// The bits of Matcher.probe.
const (
	probeText = 1
	probeSub  = 2
)

// hashStep folds in one more byte. A rotate and an xor keep the per-character dependency chain short (the
// multiply that spreads the bits is done in mix, only where a probe happens); collisions cost a string
// comparison, never a wrong answer.
func hashStep(h uint64, c byte) uint64 { return (h<<5 | h>>59) ^ uint64(c) }

func mix(h uint64) uint64 {
	h ^= h >> 31
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

const hashSeed = 0x2545f4914f6cdd1d

// hashKey hashes a key as the lookup does: from its last byte to its first.
func hashKey(key string) uint64 {
	h := uint64(hashSeed)
	for i := len(key) - 1; i >= 0; i-- {
		h = hashStep(h, key[i])
	}
	return h
}

// NewMatcher compiles a table. Rows whose pattern does not parse (possible only for tables built by hand,
// not loaded) match nothing.
func NewMatcher(t *Table) *Matcher {
	m := &Matcher{table: t, ms: make(map[string]struct{}, len(t.MicrosoftSuffixes))}
	byKey := map[string]int{}
	for i, r := range t.Rules {
		if r.Prefix.IsValid() {
			m.cidr.add(r, int32(i))
		}
		if r.Pattern == "" {
			continue
		}
		p, err := parsePattern(r.Pattern)
		if err != nil {
			continue
		}
		m.file(byKey, p, nameRule{rule: r, kind: p.kind, order: int32(i)})
	}
	m.buildSlots()
	m.cidr.finish()
	for _, s := range t.MicrosoftSuffixes {
		m.ms[s] = struct{}{}
	}
	return m
}

func (m *Matcher) file(byKey map[string]int, p pattern, nr nameRule) {
	idx, ok := byKey[p.key]
	if !ok {
		idx = len(m.entries)
		byKey[p.key] = idx
		m.entries = append(m.entries, entry{key: p.key})
	}
	m.entries[idx].rowIdx = append(m.entries[idx].rowIdx, int32(len(m.rules)))
	m.rules = append(m.rules, nr)
	switch p.kind {
	case kindSub:
		m.probe[len(p.key)] |= probeSub
	case kindText:
		m.probe[len(p.key)] |= probeText
	}
}

func (m *Matcher) buildSlots() {
	size, shift := 8, uint8(61)
	for size < 2*len(m.entries) {
		size, shift = size*2, shift-1
	}
	m.slots, m.shift = make([]slot, size), shift
	fbits, fshift := 512, uint8(55)
	for fbits < 16*len(m.entries) && fbits < 1<<17 {
		fbits, fshift = fbits*2, fshift-1
	}
	m.filter, m.fshift = make([]uint64, fbits/64), fshift
	mask := uint64(size - 1)
	for i, e := range m.entries {
		h := mix(hashKey(e.key))
		f := h >> m.fshift
		m.filter[f>>6] |= 1 << (f & 63)
		for j := m.slotIndex(h); ; j = (j + 1) & mask {
			if m.slots[j].entry == 0 {
				m.slots[j] = slot{hash: h, entry: int32(i + 1)}
				break
			}
		}
	}
}

func (m *Matcher) slotIndex(h uint64) uint64 { return (h << 7 * 0xff51afd7ed558ccd) >> m.shift }

// lookup finds the entry filed under key (whose running hash is h), or nil.
func (m *Matcher) lookup(h uint64, key []byte) *entry {
	h = mix(h)
	if f := h >> m.fshift; m.filter[f>>6]&(1<<(f&63)) == 0 {
		return nil
	}
	mask := uint64(len(m.slots) - 1)
	for j := m.slotIndex(h); ; j = (j + 1) & mask {
		s := m.slots[j]
		if s.entry == 0 {
			return nil
		}
		if s.hash == h && m.entries[s.entry-1].key == string(key) {
			return &m.entries[s.entry-1]
		}
	}
}

// normalize copies name into buf in the form rules are compared in: ASCII lower case, one trailing dot
// removed. Names longer than a DNS name can be (253) match nothing and give ok false.
func normalize(buf *[maxName]byte, name string) (int, bool) {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	if len(name) == 0 || len(name) > maxName {
		return 0, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return len(name), true
}

// walk calls visit for each row whose pattern matches the normalized name b, from the shortest literal to
// the longest. It is the one loop Match and MatchAll share.
func (m *Matcher) walk(b []byte, visit func(nr *nameRule, litLen int)) {
	h := uint64(hashSeed)
	for i := len(b) - 1; i >= 0; i-- {
		h = hashStep(h, b[i])
		n := len(b) - i
		if !m.mayEnd(b[i], i, n) {
			continue
		}
		e := m.lookup(h, b[i:])
		if e == nil {
			continue
		}
		for _, ri := range e.rowIdx {
			nr := &m.rules[ri]
			if nr.kind.appliesAt(i) {
				visit(nr, n)
			}
		}
	}
}

// mayEnd says whether some pattern's literal could be the suffix of length n that starts at i with byte c.
func (m *Matcher) mayEnd(c byte, i, n int) bool {
	p := m.probe[uint8(n)]
	return i == 0 || p&probeText != 0 || (c == '.' && p&probeSub != 0)
}

// appliesAt says whether a pattern whose literal equals the suffix starting at i matches the whole name:
// exact patterns need the whole name, "*." patterns at least one character before the dot.
func (k patternKind) appliesAt(i int) bool {
	return k == kindText || (k == kindExact && i == 0) || (k == kindSub && i > 0)
}

// Match finds the most specific row for a name: an exact pattern over a wildcard, a longer literal over a
// shorter one, among equals a row that allows the port, then the earliest row. It does not allocate.
func (m *Matcher) Match(name string, proto Proto, port uint16) Match {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	n := len(name)
	if n == 0 || n > maxName {
		return Match{}
	}
	// One pass from the end: lower-case into buf (the suffix b[i:] is complete when it is probed), hash, probe.
	var buf [maxName]byte
	b := buf[:n]
	var best candidate
	h := uint64(hashSeed)
	for i := n - 1; i >= 0; i-- {
		c := name[i]
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		b[i] = c
		h = hashStep(h, c)
		if !m.mayEnd(c, i, n-i) {
			continue
		}
		e := m.lookup(h, b[i:])
		if e == nil {
			continue
		}
		m.consider(&best, e, i, n-i, proto, port)
	}
	if best.nr == nil {
		return Match{}
	}
	return Match{Rule: best.nr.rule, PortAllowed: best.portOK}
}

// consider keeps in best the most specific of its rows and those of e that apply at position i.
func (m *Matcher) consider(best *candidate, e *entry, i, litLen int, proto Proto, port uint16) {
	for _, ri := range e.rowIdx {
		nr := &m.rules[ri]
		if !nr.kind.appliesAt(i) {
			continue
		}
		c := candidate{nr: nr, litLen: litLen, portOK: nr.rule.Allows(proto, port)}
		if best.nr == nil || c.beats(best) {
			*best = c
		}
	}
}

// candidate is a matching row with what precedence compares.
type candidate struct {
	nr     *nameRule
	litLen int
	portOK bool
}

func (c *candidate) beats(o *candidate) bool {
	if (c.nr.kind == kindExact) != (o.nr.kind == kindExact) {
		return c.nr.kind == kindExact
	}
	if c.litLen != o.litLen {
		return c.litLen > o.litLen
	}
	if c.portOK != o.portOK {
		return c.portOK
	}
	return c.nr.order < o.nr.order
}

// MatchAll appends every row whose pattern matches name to dst, most specific first (ports aside), so a
// report can show all the evidence. It is meant for reports, once per distinct name, not per packet.
func (m *Matcher) MatchAll(name string, dst []*Rule) []*Rule {
	var buf [maxName]byte
	n, ok := normalize(&buf, name)
	if !ok {
		return dst
	}
	var found [16]candidate
	cands := found[:0]
	m.walk(buf[:n], func(nr *nameRule, litLen int) {
		cands = append(cands, candidate{nr: nr, litLen: litLen})
	})
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].beats(&cands[j]) })
	for _, c := range cands {
		dst = append(dst, c.nr.rule)
	}
	return dst
}

// IsMicrosoft says whether a name is at or below one of the table's Microsoft suffixes, on a label
// boundary ("evilmicrosoft.com" is not below microsoft.com). A name no row matches is "unlisted" if so.
func (m *Matcher) IsMicrosoft(name string) bool {
	var buf [maxName]byte
	n, ok := normalize(&buf, name)
	if !ok {
		return false
	}
	b := buf[:n]
	for i := 0; i < n; i++ {
		if i > 0 && b[i-1] != '.' {
			continue
		}
		if _, ok := m.ms[string(b[i:])]; ok {
			return true
		}
	}
	return false
}

// Judge is the verdict a *successful* connection to name:port would get: Allowed, PortNotAllowed, Unlisted
// or Other. The analysis engine overrides it with Blocked or Reset when the network stopped the connection.
func (m *Matcher) Judge(name string, proto Proto, port uint16) (Match, Verdict) {
	match := m.Match(name, proto, port)
	switch {
	case match.Rule != nil && match.PortAllowed:
		return match, Allowed
	case match.Rule != nil:
		return match, PortNotAllowed
	case m.IsMicrosoft(name):
		return match, Unlisted
	}
	return match, Other
}

// Table is the table the matcher was built from, for reports that list every row.
func (m *Matcher) Table() *Table { return m.table }
