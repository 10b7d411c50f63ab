package analyze

import "net/netip"

// addrText caches the text of the addresses the engine writes into records: a gateway's records name the
// same clients, servers and resolvers again and again, and formatting an address allocates its string.
// The text is always a.String(); the cache only saves making it again.
type addrText struct {
	slots *[addrTextSlots]addrTextSlot
}

// addrTextSlot is one cached address and its text ("" for an empty slot: no address's text is empty).
type addrTextSlot struct {
	addr netip.Addr
	text string
}

// addrTextSlots is the size of the cache.
const (
	addrTextBits  = 10
	addrTextSlots = 1 << addrTextBits
)

// of returns a.String().
func (t *addrText) of(a netip.Addr) string {
	if t.slots == nil {
		t.slots = new([addrTextSlots]addrTextSlot)
	}
	s := &t.slots[addrSlot(a, addrTextBits)]
	if s.text == "" || s.addr != a {
		s.addr, s.text = a, a.String()
	}
	return s.text
}

// addrSlot hashes a to bits bits (at most 32) for a direct-mapped cache, from the address's last four bytes,
// which differ most between hosts of one network.
func addrSlot(a netip.Addr, bits uint) int {
	b := a.As16()
	x := uint32(b[12])<<24 | uint32(b[13])<<16 | uint32(b[14])<<8 | uint32(b[15])
	return int((x * 0x9e3779b1) >> (32 - bits)) // Fibonacci hashing: the top bits of the product
}
