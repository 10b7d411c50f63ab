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
// pattern, ".suffix" for "*.suffix", "suffix" for "*suffix", and ".suffix" after the last "*" label for
// "a.*.suffix"). A lookup walks the name once from its end, hashing each suffix incrementally, and probes
// only at positions where some pattern could end: the start of the name, a dot where some "*.x" or inner
// pattern has a key of that length, and suffix lengths that some "*x" pattern has. It stops once the
// suffix is longer than the longest key. An inner pattern found under its key then checks the rest of the
// name against the rest of the pattern, label by label; only rows filed under a suffix the name has are
// looked at, never all rows.
type Matcher struct {
	table    *Table
	rules    []nameRule
	entries  []entry
	slots    []slot
	shift    uint8
	filter   []uint64 // one bit per mixed hash: most probes that would miss stop here, in L1 cache
	fshift   uint8
	maxKey   int        // the longest key: no suffix longer than this can be filed
	probe    [256]uint8 // per key length: probeText if a "*x" key has it, probeDot if a "*.x" or inner key has it
	lower    [256]byte  // ASCII lower case of each byte
	charBits [256]uint8 // the probe bits a byte can start: probeText for all, probeDot too for '.'
	cidr     cidrIndex
	ms       map[string]struct{}
}

// nameRule is a name row compiled for matching; order is its position in the table (precedence ties), lit
// the literal characters of its pattern (precedence), head the part of an inner pattern before its key.
type nameRule struct {
	rule    *Rule
	kind    patternKind
	atStart bool // the key may be the whole name (exact, "*x")
	inside  bool // the key may end the name after something else ("*.x", "*x", inner)
	lit     int32
	order   int32
	head    string
}

// entry is every row filed under one literal, as a run of indexes into rowIdx. inner says some of them are
// inner patterns, which need the whole name lower-cased before they can be checked.
type entry struct {
	key    string
	rowIdx []int32
	inner  bool
}

type slot struct {
	hash  uint64
	entry int32 // index+1 into entries; 0 is an empty slot
}

// The bits of Matcher.probe.
const (
	probeText = 1
	probeDot  = 2
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
	for c := range 256 {
		m.lower[c], m.charBits[c] = byte(c), probeText
		if 'A' <= c && c <= 'Z' {
			m.lower[c] = byte(c) + 'a' - 'A'
		}
	}
	m.charBits['.'] |= probeDot
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
		m.file(byKey, p, nameRule{rule: r, kind: p.kind, lit: int32(p.lit), order: int32(i), head: p.head,
			atStart: p.kind == kindExact || p.kind == kindText, inside: p.kind != kindExact})
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
	e := &m.entries[idx]
	e.rowIdx = append(e.rowIdx, int32(len(m.rules)))
	e.inner = e.inner || p.kind == kindInner
	m.rules = append(m.rules, nr)
	m.maxKey = max(m.maxKey, len(p.key))
	switch p.kind {
	case kindSub, kindInner:
		m.probe[len(p.key)] |= probeDot
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
	lowerInto(buf[:len(name)], name)
	return len(name), true
}

// lowerInto copies s into b (of the same length) in ASCII lower case.
func lowerInto(b []byte, s string) {
	b = b[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		b[i] = c
	}
}

// walk calls visit for each row whose pattern matches the normalized name b, from the shortest key to the
// longest. It is the plain form of the loop, for MatchAll; Match has a faster one of its own.
func (m *Matcher) walk(b []byte, visit func(nr *nameRule)) {
	h := uint64(hashSeed)
	for i := len(b) - 1; i >= max(0, len(b)-m.maxKey); i-- {
		h = hashStep(h, b[i])
		if !m.mayEnd(b[i], i, len(b)-i) {
			continue
		}
		e := m.lookup(h, b[i:])
		if e == nil {
			continue
		}
		for _, ri := range e.rowIdx {
			if nr := &m.rules[ri]; nr.appliesAt(b, i) {
				visit(nr)
			}
		}
	}
}

// mayEnd says whether some pattern's key could be the suffix of length n that starts at i with byte c.
func (m *Matcher) mayEnd(c byte, i, n int) bool {
	p := m.probe[uint8(n)]
	return i == 0 || p&probeText != 0 || (c == '.' && p&probeDot != 0)
}

// appliesAt says whether a row whose key equals the suffix of b starting at i matches the whole name b:
// exact patterns need the whole name, "*." patterns at least one character before the dot, inner patterns
// a start of the name that matches their head. It is small enough to be inlined; heads are rare.
func (nr *nameRule) appliesAt(b []byte, i int) bool {
	if i == 0 {
		return nr.atStart
	}
	return nr.inside && (nr.head == "" || headMatches(nr.head, b[:i]))
}

// Match finds the most specific row for a name: an exact pattern over a wildcard, more literal characters
// over fewer, among equals a row that allows the port, then the earliest row. It does not allocate.
func (m *Matcher) Match(name string, proto Proto, port uint16) Match {
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	n := len(name)
	if n == 0 || n > maxName {
		return Match{}
	}
	// One pass from the end over the part of the name a key can cover (no key is longer than maxKey):
	// scan lower-cases into buf and hashes up to the next place a key may start, where the suffix is
	// looked up. The whole name, where exact keys live, is always looked up.
	var buf [maxName]byte
	lo := max(n-m.maxKey, 0)
	s, b := name[lo:], buf[lo:n]
	b = b[:len(s)]
	if len(s) == 0 {
		return Match{} // a table without name rows
	}
	lower, bits, probe := &m.lower, &m.charBits, &m.probe
	var best candidate
	h := uint64(hashSeed)
	j := len(s)
	for {
		j, h = m.scan(s, b, j, h)
		if j == 0 {
			break
		}
		if e := m.lookup(h, b[j:]); e != nil {
			m.consider(&best, e, buf[:n], name, lo+j, proto, port)
		}
	}
	c := lower[s[0]]
	b[0] = c
	h = hashStep(h, c)
	if lo == 0 || probe[uint8(len(s))]&bits[c] != 0 {
		if e := m.lookup(h, b); e != nil {
			m.consider(&best, e, buf[:n], name, lo, proto, port)
		}
	}
	if best.nr == nil {
		return Match{}
	}
	return Match{Rule: best.nr.rule, PortAllowed: best.portOK}
}

// scan continues the walk of Match below position j of s: it lower-cases each byte into b and hashes it,
// and stops at the first position (above 0) where a key may start, returning it and the hash so far, or 0
// when none is left. Each byte costs a load, three table lookups, a store, a rotate, an xor and a branch
// that is rarely taken; a function of its own, without calls inside, keeps the loop in registers.
func (m *Matcher) scan(s string, b []byte, j int, h uint64) (int, uint64) {
	b = b[:len(s)]
	lower, bits, probe := &m.lower, &m.charBits, &m.probe
	for k := uint8(len(s) - j); j > 1 && j <= len(s); {
		j--
		k++ // len(s) - j, the length of the suffix at j
		c := lower[s[j]]
		b[j] = c
		h = hashStep(h, c)
		if probe[k]&bits[c] != 0 {
			return j, h
		}
	}
	return 0, h
}

// consider keeps in best the most specific of its rows and those of e that apply at position i of b, the
// name lower-cased from i on. An inner pattern's head reads the start of the name, so that is lower-cased
// first when e has one.
func (m *Matcher) consider(best *candidate, e *entry, b []byte, name string, i int, proto Proto, port uint16) {
	if e.inner {
		lowerInto(b[:i], name[:i])
	}
	for _, ri := range e.rowIdx {
		nr := &m.rules[ri]
		if !nr.appliesAt(b, i) {
			continue
		}
		c := candidate{nr: nr, portOK: nr.rule.Allows(proto, port)}
		if best.nr == nil || c.beats(best) {
			*best = c
		}
	}
}

// candidate is a matching row with whether it allows the connection's port.
type candidate struct {
	nr     *nameRule
	portOK bool
}

func (c *candidate) beats(o *candidate) bool {
	if (c.nr.kind == kindExact) != (o.nr.kind == kindExact) {
		return c.nr.kind == kindExact
	}
	if c.nr.lit != o.nr.lit {
		return c.nr.lit > o.nr.lit
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
	m.walk(buf[:n], func(nr *nameRule) {
		cands = append(cands, candidate{nr: nr})
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
