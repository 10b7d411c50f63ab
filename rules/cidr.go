package rules

import (
	"net/netip"
	"sort"
)

// cidrIndex files CIDR rows by prefix; a lookup tries each prefix length present, longest first, so its
// cost grows with the number of distinct lengths, not rows.
type cidrIndex struct {
	byPrefix map[netip.Prefix][]cidrRule
	byV4     map[uint64][]cidrRule // IPv4 rows again, keyed by v4Key: the common case, without hashing a struct
	lens4    []int                 // distinct IPv4 prefix lengths, longest first
	lens6    []int
}

// v4Key packs a masked IPv4 prefix into an integer.
func v4Key(a netip.Addr, bits int) uint64 {
	b := a.As4()
	return uint64(bits)<<32 | uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

type cidrRule struct {
	rule  *Rule
	order int32
}

func (c *cidrIndex) add(r *Rule, order int32) {
	if c.byPrefix == nil {
		c.byPrefix = map[netip.Prefix][]cidrRule{}
	}
	p := r.Prefix.Masked()
	c.byPrefix[p] = append(c.byPrefix[p], cidrRule{rule: r, order: order})
	if p.Addr().Is4() {
		if c.byV4 == nil {
			c.byV4 = map[uint64][]cidrRule{}
		}
		k := v4Key(p.Addr(), p.Bits())
		c.byV4[k] = append(c.byV4[k], cidrRule{rule: r, order: order})
	}
}

func (c *cidrIndex) finish() {
	seen4, seen6 := map[int]bool{}, map[int]bool{}
	for p := range c.byPrefix {
		if p.Addr().Is4() && !seen4[p.Bits()] {
			seen4[p.Bits()] = true
			c.lens4 = append(c.lens4, p.Bits())
		}
		if p.Addr().Is6() && !seen6[p.Bits()] {
			seen6[p.Bits()] = true
			c.lens6 = append(c.lens6, p.Bits())
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(c.lens4)))
	sort.Sort(sort.Reverse(sort.IntSlice(c.lens6)))
}

// MatchAddr finds the CIDR row for a connection that has no name: the longest prefix holding addr, among
// rows of that prefix one that allows the port, then the earliest. Name rows are not consulted.
func (m *Matcher) MatchAddr(addr netip.Addr, proto Proto, port uint16) Match {
	addr = addr.Unmap().WithZone("")
	lens := m.cidr.lens6
	if addr.Is4() {
		lens = m.cidr.lens4
	}
	for _, bits := range lens {
		rows := m.cidr.rows(addr, bits)
		if len(rows) == 0 {
			continue
		}
		best := Match{Rule: rows[0].rule, PortAllowed: rows[0].rule.Allows(proto, port)}
		for _, cr := range rows[1:] {
			if !best.PortAllowed && cr.rule.Allows(proto, port) {
				best = Match{Rule: cr.rule, PortAllowed: true}
			}
		}
		return best
	}
	return Match{}
}

// rows are the CIDR rows of the prefix of addr with this length.
func (c *cidrIndex) rows(addr netip.Addr, bits int) []cidrRule {
	if addr.Is4() {
		masked := v4Key(addr, 32) & (0xffffffff << (32 - bits))
		return c.byV4[uint64(bits)<<32|masked&0xffffffff]
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return nil
	}
	return c.byPrefix[p]
}
