package analyze

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestFirstBytesKeepsFirstCopy: overlapping bytes keep the first copy, and a resend with other bytes is a
// conflict, however the copies overlap.
func TestFirstBytesKeepsFirstCopy(t *testing.T) {
	tests := []struct {
		name string
		segs []struct {
			off  int
			data string
		}
		want     string
		conflict bool
	}{
		{"same bytes again", []struct {
			off  int
			data string
		}{{0, "abcdef"}, {2, "cd"}}, "abcdef", false},
		{"other bytes inside", []struct {
			off  int
			data string
		}{{0, "abcdef"}, {2, "XY"}}, "abcdef", true},
		{"other bytes across a hole", []struct {
			off  int
			data string
		}{{0, "ab"}, {4, "ef"}, {0, "XbcdeY"}}, "abcdef", true},
		{"hole filled, held bytes equal", []struct {
			off  int
			data string
		}{{0, "ab"}, {4, "ef"}, {0, "abcdef"}}, "abcdef", false},
		{"later copy overlaps the end", []struct {
			off  int
			data string
		}{{0, "abcd"}, {3, "Zef"}}, "abcdef", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pool bufPool
			s := firstBytes{limit: 64}
			s.start(100)
			conflict := false
			for _, g := range tt.segs {
				c, _ := s.add(uint32(100+g.off), []byte(g.data), &pool)
				conflict = conflict || c
			}
			if got := string(s.contiguous()); got != tt.want || conflict != tt.conflict {
				t.Errorf("got %q conflict %v, want %q %v", got, conflict, tt.want, tt.conflict)
			}
		})
	}
}

// TestFirstBytesOverflowReported: the segment that finds the span table full is reported once.
func TestFirstBytesOverflowReported(t *testing.T) {
	var pool bufPool
	s := firstBytes{limit: 1024}
	s.start(0)
	overflows := 0
	for i := 0; i < 40; i++ {
		if _, o := s.add(uint32(2*i+2), []byte{'x'}, &pool); o {
			overflows++
		}
	}
	if overflows != 1 || !s.overflowed {
		t.Errorf("%d overflows reported, want 1", overflows)
	}
}

// TestDNSCacheBoundedInBytes fills the cache with answers of long shared chains: the bytes stay under the cap,
// evictions are counted, chains are charged once however many addresses share them, and the newest answers
// are the ones kept.
func TestDNSCacheBoundedInBytes(t *testing.T) {
	const maxBytes = 1 << 20
	c := newDNSCache(1<<20, maxBytes)
	client := netip.MustParseAddr("198.18.0.2")
	names := make([]string, 17)
	for i := range names {
		names[i] = fmt.Sprintf("%s.c%d.example", bytes.Repeat([]byte{'a'}, 200), i)
	}
	var last *dnsChain
	for answer := 0; answer < 200; answer++ {
		ch := &dnsChain{names: names, bytes: dnsChainBytes(names)}
		for a := 0; a < 100; a++ {
			addr := netip.AddrFrom4([4]byte{198, 19, byte(answer), byte(a)})
			c.put(hostKey{client, addr}, nameEvidence{name: "x", chain: ch, addr: addr}, 0)
			if c.bytes > maxBytes {
				t.Fatalf("answer %d: %d bytes held, cap %d", answer, c.bytes, maxBytes)
			}
		}
		last = ch
	}
	if c.evicted == 0 {
		t.Error("no eviction counted")
	}
	// Recount from what is held: each distinct chain once, each entry once.
	want, seen := 0, map[*dnsChain]bool{}
	for _, ev := range c.entries {
		want += dnsEntryBytes
		if !seen[ev.chain] {
			seen[ev.chain] = true
			want += ev.chain.bytes
		}
	}
	if c.bytes != want {
		t.Errorf("accounted %d bytes, held %d", c.bytes, want)
	}
	if _, ok := c.get(hostKey{client, netip.AddrFrom4([4]byte{198, 19, 199, 99})}); !ok || last.refs != 100 {
		t.Errorf("the newest answer was not kept whole (refs %d)", last.refs)
	}
}

// TestCaptureClock: a lone frame far ahead does not move the clock and is counted; a jump the next frame
// confirms moves it one frame late.
func TestCaptureClock(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	var c captureClock
	for _, d := range []time.Duration{0, time.Second, 100 * 365 * 24 * time.Hour, 2 * time.Second} {
		c.observe(at(d), at(d).UnixNano())
	}
	if !c.now.Equal(at(2*time.Second)) || c.jumps != 1 {
		t.Errorf("lone frame: clock %v, %d jumps", c.now, c.jumps)
	}
	for _, d := range []time.Duration{time.Hour, time.Hour + time.Second} {
		c.observe(at(d), at(d).UnixNano())
	}
	if !c.now.Equal(at(time.Hour+time.Second)) || c.jumps != 1 {
		t.Errorf("confirmed jump: clock %v, %d jumps", c.now, c.jumps)
	}
	c.observe(at(48*time.Hour), at(48*time.Hour).UnixNano())
	c.end()
	if c.jumps != 2 {
		t.Errorf("a last frame far ahead: %d jumps, want 2", c.jumps)
	}
}

func TestValidHostName(t *testing.T) {
	for s, want := range map[string]bool{
		"manage.microsoft.com": true, "xn--bcher-kva.example": true, "a_b.example": true, "a-1.b": true,
		"": false, "line1\nFAIL: injected.manage.microsoft.com": false, "a..b": false, ".a": false,
		"bücher.example": false, "a b": false, string(bytes.Repeat([]byte{'a'}, 64)) + ".com": false,
		"host:443": false,
	} {
		if got := validHostName(s); got != want {
			t.Errorf("validHostName(%q) = %v, want %v", s, got, want)
		}
	}
	if got := escapeName("a\nb\\c\xff"); got != `a\x0ab\\c\xff` {
		t.Errorf("escapeName = %q", got)
	}
}

// TestUnlistedSetMergesLikeOne: sets filled by engines that split the names merge into the set one engine
// fills, with exact counts for the names kept.
func TestUnlistedSetMergesLikeOne(t *testing.T) {
	one := newUnlistedSet(50)
	parts := []unlistedSet{newUnlistedSet(50), newUnlistedSet(50), newUnlistedSet(50)}
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("n%04d", (i*7919)%300)
		one.add(name, 1)
		parts[i%3].add(name, 1)
	}
	merged := newUnlistedSet(50)
	for i := range parts {
		merged.merge(&parts[i])
	}
	if fmt.Sprint(merged.counts) != fmt.Sprint(one.counts) || merged.omitted != one.omitted {
		t.Errorf("merged %v (%d omitted)\none    %v (%d omitted)", merged.counts, merged.omitted, one.counts, one.omitted)
	}
	n, est := one.distinct()
	if !est || n < 290 || n > 310 {
		t.Errorf("distinct %d (estimated %v), want about 300", n, est)
	}
}
