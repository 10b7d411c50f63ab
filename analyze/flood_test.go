package analyze_test

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"golang.org/x/net/dns/dnsmessage"
)

// countingSink counts records without keeping them, as a streaming writer would.
type countingSink struct {
	records int
	summary *result.Summary
}

func (c *countingSink) Record(*result.Record) error     { c.records++; return nil }
func (c *countingSink) Summary(s *result.Summary) error { c.summary = s; return nil }

// heapAfterGC reports the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSYNFloodStaysBounded sends 1,000,000 SYNs from distinct ports and addresses within one second of
// capture time, so none expires: the table must stop at its default cap, evict the oldest half-open
// connections, and the heap must stay below 512 MiB.
func TestSYNFloodStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 1_000_000
	const limit = analyze.DefaultMaxConnections
	sink := &countingSink{}
	w := newWire(t, analyze.Options{})
	e, err := analyze.New(analyze.Options{Matcher: w.eng.Matcher()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	before := heapAfterGC()
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	server := netip.MustParseAddr("198.18.1.1")
	var peak uint64
	for i := 0; i < n; i++ {
		a := [4]byte{198, 19, byte(i >> 16), byte(i >> 8)}
		p := decode.Packet{Src: netip.AddrFrom4(a), Dst: server, IPProto: 6, SrcPort: uint16(1024 + i%60000),
			DstPort: 443, TCPFlags: syn, Seq: uint32(i)}
		f := capture.Frame{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), Number: uint64(i + 1), WireLen: 60}
		if err := e.Packet(&f, &p); err != nil {
			t.Fatal(err)
		}
		if i%100_000 == 0 {
			peak = max(peak, heapAfterGC())
		}
	}
	peak = max(peak, heapAfterGC())
	if err := e.Finish(result.CaptureFacts{}); err != nil {
		t.Fatal(err)
	}
	q := sink.summary.Capture.Quality
	if q.Evicted != n-limit || sink.records != n {
		t.Errorf("evicted %d, records %d; want %d evicted, %d records", q.Evicted, sink.records, n-limit, n)
	}
	if grew := peak - before; grew > 384<<20 {
		t.Errorf("heap grew by %d MiB with %d connections tracked", grew>>20, limit)
	}
	t.Logf("heap grew by %d MiB for %d half-open connections", (peak-before)>>20, limit)
}

// TestRandomNameFloodStaysBounded answers 100,000 lookups of random names: the DNS name cache and the set of
// resolved names stop at their caps.
func TestRandomNameFloodStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	sink := &countingSink{}
	w := newWire(t, analyze.Options{})
	e, err := analyze.New(analyze.Options{Matcher: w.eng.Matcher(), MaxDNSNames: 10_000}, sink)
	if err != nil {
		t.Fatal(err)
	}
	w.eng = e
	before := heapAfterGC()
	for i := 0; i < 100_000; i++ {
		name := "h" + itoa(i) + ".random.example"
		addr := netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)})
		w.dns(uint16(i), name, dnsmessage.TypeA, 0, "", addr)
	}
	grew := heapAfterGC() - before
	if err := e.Finish(result.CaptureFacts{}); err != nil {
		t.Fatal(err)
	}
	if sink.records != 100_000 {
		t.Errorf("%d records", sink.records)
	}
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MiB", grew>>20)
	}
	t.Logf("heap grew by %d MiB", grew>>20)
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
