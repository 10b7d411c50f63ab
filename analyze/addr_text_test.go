package analyze

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAddrTextAgainstString: the cache's text is always the address's String, over addresses that share
// slots (the same last bytes in IPv4, IPv4-mapped IPv6 and IPv6, with and without a zone).
func TestAddrTextAgainstString(t *testing.T) {
	var addrs []netip.Addr
	for i := range 600 {
		v4 := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		b := v4.As16()
		mapped := netip.AddrFrom16(b)
		b[0], b[1], b[3], b[10], b[11] = 0x20, 0x01, 2, 0, 0
		v6 := netip.AddrFrom16(b)
		addrs = append(addrs, v4, mapped, v6, v6.WithZone("eth0"), v6.WithZone("eth1"))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var text addrText
	for range 100000 {
		a := addrs[rng.IntN(len(addrs))]
		if got, want := text.of(a), a.String(); got != want {
			t.Fatalf("text of %v: %q, want %q", a, got, want)
		}
	}
	a := addrs[7]
	text.of(a)
	if n := testing.AllocsPerRun(100, func() { text.of(a) }); n != 0 {
		t.Errorf("a cached address's text allocates %v times", n)
	}
}
