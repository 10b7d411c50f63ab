package analyze

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/intunecap/intunecap/analyze/decode"
)

// TestChecksumTallyAgainstModel notes random packets between addresses that share their cache slots (same
// last bytes in IPv4 and IPv6, mapped and not), past the cap on tracked addresses, in a tally and in a model:
// a tally whose cache is emptied before every packet, so that its lookups go to the map, and compares every
// count.
func TestChecksumTallyAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	addrs := make([]netip.Addr, 0, maxChecksumSenders+2000)
	for i := 0; len(addrs) < cap(addrs); i++ { // three addresses with the same last bytes: one cache slot
		v4 := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		b := v4.As16()
		addrs = append(addrs, v4, netip.AddrFrom16(b)) // 198.18.x.y and ::ffff:198.18.x.y
		b[0], b[1], b[3], b[10], b[11] = 0x20, 0x01, 2, 0, 0
		addrs = append(addrs, netip.AddrFrom16(b)) // 2001:2::c612:xxyy
	}
	statuses := []decode.ChecksumStatus{decode.ChecksumGood, decode.ChecksumUnfinished, decode.ChecksumBad}
	var got, want checksumTally
	for i := range 200000 {
		pool := addrs[:64] // a few hosts most of the time, as on a gateway
		if i%3 == 0 {
			pool = addrs
		}
		src, dst := pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]
		st, sure := statuses[rng.IntN(len(statuses))], rng.IntN(2) == 0
		got.note(src, dst, st, sure)
		want.recent = nil
		want.note(src, dst, st, sure)
	}
	if got.untracked != want.untracked || len(got.hosts) != len(want.hosts) {
		t.Fatalf("untracked %d, hosts %d; model %d, %d", got.untracked, len(got.hosts), want.untracked, len(want.hosts))
	}
	for a, w := range want.hosts {
		if g := got.hosts[a]; g == nil || *g != *w {
			t.Fatalf("%s: %+v, model %+v", a, g, *w)
		}
	}
}

// BenchmarkChecksumTally notes packets among 200 clients and 20 servers, each client talking to one server
// for a while, as the connections of a gateway do; b.N counts packets.
func BenchmarkChecksumTally(b *testing.B) {
	var clients, servers []netip.Addr
	for i := range 200 {
		clients = append(clients, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	for i := range 20 {
		servers = append(servers, netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}))
	}
	var tally checksumTally
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c, s := clients[i/8%len(clients)], servers[i/64%len(servers)]
		if i%2 == 0 {
			tally.note(c, s, decode.ChecksumGood, false)
		} else {
			tally.note(s, c, decode.ChecksumGood, false)
		}
		i++
	}
}
