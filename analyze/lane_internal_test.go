package analyze

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
	"github.com/intunecap/intunecap/tools/synth/gen"
)

// recordWriter encodes every record and the summary, in the order a sink receives them.
type recordWriter struct{ strings.Builder }

func (w *recordWriter) Record(r *result.Record) error   { return json.NewEncoder(w).Encode(r) }
func (w *recordWriter) Summary(s *result.Summary) error { return json.NewEncoder(w).Encode(s) }

// TestRecordSlicesSpanned runs engines on workers whose record slices hold one, two or three records, so that
// the records of nearly every work batch and sweep span several slices handed to the merger, some of them
// before their capture position is known, and an engine in the reading goroutine whose sweeps span several
// slices. The output must be what one engine in the reading goroutine writes from one slice that grows.
func TestRecordSlicesSpanned(t *testing.T) {
	for _, cfg := range []gen.Config{
		{Seed: 4, SYNFlood: 3_000}, // sweeps that expire thousands of half-open connections at once
		{Size: 4_000_000, Seed: 5, Format: "pcap", IPv6Share: 0.2, Mix: gen.MixConns},
	} {
		path := synthFile(t, cfg)
		want := runSlices(t, path, 1, math.MaxInt, true) // one slice that grows: no slice is ever full
		if strings.Count(want, "\n") < 1_000 {
			t.Fatalf("seed %d: %d records, too few to span slices", cfg.Seed, strings.Count(want, "\n"))
		}
		for _, workers := range []int{1, 2, 3} {
			for _, slice := range []int{1, 2, 3} {
				if got := runSlices(t, path, workers, slice, false); got != want {
					t.Errorf("seed %d, %d workers, slices of %d: differs from one inline engine", cfg.Seed, workers, slice)
				}
			}
		}
		for _, slice := range []int{1, 2, 3, maxBatchRecords} { // inline, sweeps spanning full slices
			if got := runSlices(t, path, 1, slice, true); got != want {
				t.Errorf("seed %d, inline, slices of %d: differs from one inline engine with one slice", cfg.Seed, slice)
			}
		}
	}
}

// runSlices analyses path with workers engines and record slices of slice records; inline runs one engine
// in the reading goroutine (a source that does not retain frames, one worker).
func runSlices(t *testing.T, path string, workers, slice int, inline bool) string {
	t.Helper()
	table, err := rules.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Short timeouts: every sweep (once a second of capture time) finishes what has closed or gone quiet.
	opts := Options{Matcher: rules.NewMatcher(table), Files: []string{path}, Workers: workers, recordSlice: slice,
		ClosedLinger: time.Millisecond, HalfOpenTimeout: time.Millisecond, UDPTimeout: time.Millisecond,
		DNSTimeout: time.Millisecond, IdleTimeout: time.Millisecond}
	var src Source = fileSource{r}
	if inline {
		src = copiedSource{r}
	}
	var w recordWriter
	if err := Run(src, opts, &w, Hooks{Facts: func() result.CaptureFacts { return FactsFrom(r) }}); err != nil {
		t.Fatal(err)
	}
	return w.String()
}

// copiedSource reads capture files without keeping frames in place: one worker then runs inline.
type copiedSource struct{ r *capture.Reader }

func (s copiedSource) Next() (*capture.Frame, time.Time, error) {
	f, err := s.r.NextFrame()
	return f, time.Time{}, err
}

func (s copiedSource) Retain() bool { return false }

// TestPutFillsItem: put fills the batch's next item in place, field by field, and that slot still holds an
// item of an earlier batch. Every field must come out as the composite literal put once built would make it,
// whatever the slot held: a field put forgets keeps the earlier item's value. The field count is checked, so
// a field added to item without a line in put (and here) fails.
func TestPutFillsItem(t *testing.T) {
	if n := reflect.TypeOf(item{}).NumField(); n != 11 {
		t.Fatalf("item has %d fields, this test and lane.put know 11: set the new one in put, then here", n)
	}
	stale := item{kind: itemTick, phase: 2, pkt: 7, hello: 3, dns: 4, checksum: 2, seq: 99, clock: 98, ns: 97,
		now: time.Unix(5, 6), frame: capture.Frame{Data: []byte{9}, Timestamp: time.Unix(7, 8), WireLen: 9,
			LinkType: 101, File: 3, Number: 4, Interface: 5, Chunk: new(capture.Chunk)}}
	ts := time.Unix(1_700_000_000, 123).UTC()
	copied := capture.Frame{Data: []byte{1, 2, 3}, Timestamp: ts, WireLen: 60, LinkType: 1, File: 1, Number: 12}
	held := copied
	held.Chunk, held.Number = new(capture.Chunk), 13
	for _, tc := range []struct {
		name    string
		f       capture.Frame
		decoded bool
		want    item
	}{
		{"frame copied for the lane to decode", copied, false, item{kind: itemPacket, seq: 5, clock: 6, ns: 7,
			pkt: -1, frame: copied}},
		{"packet decoded in place", held, true, item{kind: itemPacket, seq: 5, clock: 6, ns: 7, pkt: 0,
			frame: func() capture.Frame { f := held; f.Data = nil; return f }()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &lane{in: make(chan *batch, 1), free: make(chan *batch, maxBatches), batchRoom: 4}
			b := l.batch()
			b.items = b.items[:cap(b.items)]
			for i := range b.items {
				b.items[i] = stale
			}
			b.items = b.items[:0]
			f := tc.f
			var p *decode.Packet
			if tc.decoded {
				p = l.packetSlot(&f)
				*p = decode.Packet{IPProto: protoTCP, TCPFlags: flagACK, SrcPort: 50000, DstPort: 443}
			}
			l.put(itemPacket, 5, 6, 7, &f, p)
			if len(b.items) != 1 {
				t.Fatalf("batch holds %d items, want 1", len(b.items))
			}
			got := b.items[0]
			if !tc.decoded && !bytes.Equal(got.frame.Data, tc.f.Data) {
				t.Errorf("frame bytes %v, want a copy of %v", got.frame.Data, tc.f.Data)
			}
			got.frame.Data, tc.want.frame.Data = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("item\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestMayPrepareCoversPrepare: for every packet mayPrepare turns away, prepare would have done nothing: no
// checksum, DNS message or ClientHello for the item, nothing added to the batch. The packets: every packet
// of a synthesized connection-heavy capture, then random TCP packets (the only kind it turns away) with every
// flag combination, ports of DNS, HTTPS, HTTP and others, and payloads that begin with every byte: some a
// whole ClientHello from that capture with its record type changed, some only a TLS record header.
func TestMayPrepareCoversPrepare(t *testing.T) {
	var sample, hellos []decode.Packet
	for _, p := range synthPackets(t, gen.Config{Size: 2_000_000, Seed: 9, Format: "pcap", Mix: gen.MixConns}) {
		sample = append(sample, p)
		if p.IPProto == protoTCP && looksLikeClientHello(p.Payload) && !p.Truncated {
			hellos = append(hellos, p)
		}
	}
	if len(hellos) < 10 {
		t.Fatalf("the synthesized capture has %d whole ClientHellos: the test no longer covers them", len(hellos))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ports := []uint16{53, 443, 80, 8080, 3128, 50000}
	for i := 0; i < 200_000; i++ {
		payload := make([]byte, rng.IntN(12))
		for j := range payload {
			payload[j] = byte(rng.IntN(256))
		}
		switch rng.IntN(4) {
		case 0: // a whole ClientHello, or a record of another type with its bytes
			payload = slices.Clone(hellos[rng.IntN(len(hellos))].Payload)
			payload[0] = []byte{0x14, 0x15, 0x16, 0x17}[rng.IntN(4)]
		case 1: // a TLS record header: handshake or other, version 3.x
			if len(payload) > 5 {
				payload[0], payload[1], payload[5] = []byte{0x14, 0x15, 0x16, 0x17}[rng.IntN(4)], 0x03, 0x01
			}
		}
		sample = append(sample, decode.Packet{IPProto: protoTCP, TCPFlags: uint8(rng.IntN(256)),
			SrcPort: ports[rng.IntN(len(ports))], DstPort: ports[rng.IntN(len(ports))], Payload: payload,
			PayloadWireLen: len(payload)})
	}
	l, turnedAway := &lane{}, 0
	for _, p := range sample {
		if mayPrepare(&p) {
			continue
		}
		turnedAway++
		b := &batch{}
		it := item{kind: itemPacket}
		l.prepare(b, &it, &p)
		if !reflect.DeepEqual(it, item{kind: itemPacket}) || len(b.dnsMsgs) != 0 || len(b.hellos) != 0 {
			t.Fatalf("mayPrepare turned away %+v, but prepare made item %+v, %d DNS messages, %d hellos",
				p, it, len(b.dnsMsgs), len(b.hellos))
		}
	}
	if turnedAway < len(sample)/5 {
		t.Errorf("mayPrepare turned away %d of %d packets: the test no longer covers it", turnedAway, len(sample))
	}
}

// synthFile writes the capture cfg makes to a file of the test's and returns its path.
func synthFile(t *testing.T, cfg gen.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth.pcap")
	if _, err := gen.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}

// synthReader opens a capture cfg makes; the test closes it.
func synthReader(t *testing.T, cfg gen.Config) *capture.Reader {
	t.Helper()
	r, err := capture.Open([]string{synthFile(t, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// synthPackets decodes every frame of a capture cfg makes, each packet's payload a copy.
func synthPackets(t *testing.T, cfg gen.Config) []decode.Packet {
	t.Helper()
	r := synthReader(t, cfg)
	dec := decode.NewDecoder(decode.Options{})
	var out []decode.Packet
	for {
		fr, err := r.NextFrame()
		if err != nil {
			break
		}
		var p decode.Packet
		if dec.Decode(fr, &p) == nil {
			p.Payload, p.Segment, p.IPv4Header = slices.Clone(p.Payload), slices.Clone(p.Segment), slices.Clone(p.IPv4Header)
			out = append(out, p)
		}
	}
	return out
}

// TestRecentConnsAgreeWithTable: the cache of recent connections in front of the connection map must never
// answer other than the map: after every packet, each slot in use holds a connection the map holds under the
// slot's key. Captures that exercise it: bulk and connection-heavy traffic, a SYN flood in a table too small
// for it (eviction), and connections that end and open again on the same ports (port reuse).
func TestRecentConnsAgreeWithTable(t *testing.T) {
	table, err := rules.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cfg     gen.Config
		maxConn int
	}{
		{"bulk", gen.Config{Size: 3_000_000, Seed: 1, Format: "pcap"}, 0},
		{"conns", gen.Config{Size: 3_000_000, Seed: 5, Format: "pcap", IPv6Share: 0.2, Mix: gen.MixConns}, 0},
		{"conns, small table", gen.Config{Size: 3_000_000, Seed: 6, Format: "pcap", Mix: gen.MixConns}, 64},
		{"syn flood, small table", gen.Config{Seed: 4, SYNFlood: 5_000}, 1_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(Options{Matcher: rules.NewMatcher(table), MaxConnections: tc.maxConn}, &recordWriter{})
			if err != nil {
				t.Fatal(err)
			}
			r := synthReader(t, tc.cfg)
			dec := decode.NewDecoder(decode.Options{})
			var p decode.Packet
			for n := 1; ; n++ {
				f, err := r.NextFrame()
				if err != nil {
					break
				}
				if dec.Decode(f, &p) != nil {
					continue
				}
				if err := e.Packet(f, &p); err != nil {
					t.Fatal(err)
				}
				for i := range e.recent {
					s := &e.recent[i]
					if s.c != nil && e.conns[s.key] != s.c {
						t.Fatalf("after frame %d, recent slot %d holds a connection the table does not hold under its key", n, i)
					}
				}
			}
		})
	}
}
