package analyze

import (
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/prefault"
	"github.com/intunecap/intunecap/result"
)

// A lane runs one engine, either inline (on the reading goroutine: each piece of work is done as it is put)
// or on a worker goroutine (work is queued in batches, and the engine's records go to the merger). The
// driver treats both alike: put a packet or a frame, tick, close.
type lane struct {
	id  int
	eng *Engine
	dec *decode.Decoder // for frames handed over undecoded
	pkt decode.Packet

	// On a worker only (nil, zero inline).
	in        chan *batch
	free      chan *batch
	cur       *batch
	made      int // batches made so far
	batchRoom int // items and packets a new batch is made with: firstBatchItems, then what the first one held
	done      chan struct{}
	merge     *merger
	out       []recordRange
	unkeyed   []recordRange    // the current item's records in batches the engine filled: out gives their key
	hello     tlshello.Hello   // the reading goroutine's ClientHello parser (prepare.go)
	prints    fingerprint.Memo // the reading goroutine's fingerprints of hellos met before (prepare.go)
	dnsMsg    dnsmsg.Message   // the reading goroutine's DNS parser (prepare.go)
	size      atomic.Int64     // connections the engine tracked after its last batch
}

// item is one piece of work for a lane's engine.
type item struct {
	kind  itemKind
	phase uint8 // itemTick: 0 before the packet numbered seq, 2 after it (a quiet tick)
	pkt   int32 // index of the decoded packet in the batch's pkts; -1: the lane decodes frame
	hello int32 // 1 + index in the batch's hellos of the ClientHello its payload holds (prepareHello); 0: none
	dns   int32 // 1 + index in the batch's dnsMsgs of its DNS message (prepareDNS); 0: none
	// checksum is 1 + the packet's decode.ChecksumStatus when the reading goroutine verified it (checksumAhead);
	// 0: not verified yet.
	checksum uint8
	seq      uint64
	clock    int64         // itemPacket, itemDNSCopy: the latest capture time of the capture set so far (ns)
	ns       int64         // itemPacket, itemDNSCopy: frame.Timestamp in Unix nanoseconds
	now      time.Time     // itemTick
	frame    capture.Frame // with a decoded packet, its bytes are the packet's (Data may be nil)
}

// itemKind says what to do with an item.
type itemKind uint8

const (
	itemPacket  itemKind = iota // a packet of a flow the engine owns
	itemDNSCopy                 // a copy of a DNS packet another engine owns, read for names only
	itemTick                    // sweep at capture time now
	itemEnd                     // the last item: what is still open is written by the driver (writeEnd)
)

// batch carries items to a worker. The bytes of a frame stay in the reader's chunks, held by the batch, or
// are copied into the batch's arena when the source does not keep them in place.
type batch struct {
	items  []item
	pkts   []decode.Packet // packets the reading goroutine decoded, apart so that items stay small
	hellos []preparedHello // ClientHellos the reading goroutine parsed from their packets
	// dnsMsgs are DNS messages the reading goroutine parsed from their datagrams; their slices are reused
	// from one use of the batch to the next.
	dnsMsgs []dnsmsg.Message
	arena   []byte
	chunks  []*capture.Chunk
	held    *capture.Chunk // chunks' last, nil when there is none: what holdChunk compares every frame's with
}

// batchItems is how many items go to a worker at once: enough to make channel costs vanish per packet.
const batchItems = 512

// maxBatches bounds the batches of one worker, queued or being filled; they are made as needed, so a short
// capture does not pay for all of them.
const maxBatches = 10

// arenaSize is the most a batch's arena holds. Frames held in place need none; a batch that copies frames
// starts with firstArenaSize and doubles up to arenaSize, so a short capture does not clear a large arena.
const arenaSize = 256 << 10

// firstArenaSize is a batch's arena when it first copies a frame.
const firstArenaSize = 8 << 10

// firstBatchItems is the room for items and packets a lane's first batch is made with; it grows up to
// batchItems, so that a short capture (or a test that runs the engine once per input) does not clear room
// for hundreds. A lane's later batches start as large as its first grew.
const firstBatchItems = 16

// maxBatchChunks bounds the chunks one batch holds, so a worker that gets few frames (DNS copies only, say)
// does not keep many megabytes of capture alive until its batch fills.
const maxBatchChunks = 2

// newLane makes lane id for engine e: on a worker feeding m, or inline when m is nil.
func newLane(id int, e *Engine, m *merger) *lane {
	l := &lane{id: id, eng: e, dec: decode.NewDecoder(decode.Options{})}
	if m == nil {
		e.full = e.stash
		return l
	}
	l.in, l.free, l.done, l.merge = make(chan *batch, 8), make(chan *batch, maxBatches), make(chan struct{}), m
	l.batchRoom = firstBatchItems
	e.out = func(k batchKey, start, end int) {
		for _, r := range l.unkeyed {
			r.key = k
			l.out = append(l.out, r)
		}
		clear(l.unkeyed)
		l.unkeyed = l.unkeyed[:0]
		l.out = append(l.out, recordRange{key: k, recs: e.batch[start:end:end]})
	}
	e.full = l.batchFull
	go l.run()
	return l
}

// inline reports whether the lane runs on the reading goroutine.
func (l *lane) inline() bool { return l.in == nil }

// put hands the lane a frame numbered seq, whose timestamp is ns in Unix nanoseconds (the reading loop has it
// already): decoded into p, or with p nil for the lane to decode. Inline, the engine takes it at once; on a
// worker, it is queued, its bytes held in place or copied. clock is the capture set's latest time.
func (l *lane) put(kind itemKind, seq uint64, clock, ns int64, f *capture.Frame, p *decode.Packet) {
	if l.inline() {
		l.do(kind, seq, clock, ns, f, p)
		return
	}
	need := len(f.Data)
	if p != nil {
		need = len(p.Payload) + len(p.Segment) + len(p.IPv4Header) // the last two for checksums (checksum.go)
	}
	var b *batch
	if f.Chunk != nil {
		b, need = l.holdChunk(f.Chunk), 0
	} else {
		b = l.room(need)
	}
	it := b.nextItem() // every field set here: the slot holds an item of an earlier batch (TestPutFillsItem)
	it.kind, it.phase, it.checksum = kind, 0, 0
	it.pkt, it.hello, it.dns = -1, 0, 0
	it.seq, it.clock, it.ns, it.now = seq, clock, ns, time.Time{}
	it.frame = *f
	if p != nil {
		n := len(b.pkts)
		it.pkt = int32(n)
		if n < cap(b.pkts) && p == &b.pkts[:n+1][n] {
			b.pkts = b.pkts[:n+1] // decoded in place (packetSlot)
		} else {
			b.pkts = append(prefault.Grow(b.pkts, 1), *p)
		}
		if need > 0 {
			q := &b.pkts[it.pkt]
			q.Payload, q.Segment, q.IPv4Header = b.copy(p.Payload), b.copy(p.Segment), b.copy(p.IPv4Header)
		}
		it.frame.Data = nil // the packet has what the engine reads of the frame
		if mayPrepare(p) {
			l.prepare(b, it, p)
		}
	} else if need > 0 {
		it.frame.Data = b.copy(f.Data)
	}
	if len(b.items) == batchItems {
		l.send()
	}
}

// prepare does for the engine, on the reading goroutine, the work on packet p of item it that depends on p
// alone (prepare.go): its checksums when the engine will verify them whatever its connection's state, the
// DNS message of a datagram the engine owns, a ClientHello its payload holds whole.
func (l *lane) prepare(b *batch, it *item, p *decode.Packet) {
	if checksumAhead(p) {
		it.checksum = 1 + uint8(p.VerifyChecksums())
	}
	if it.kind == itemPacket && p.IPProto == protoUDP && isDNS(p) {
		n := len(b.dnsMsgs)
		if n == cap(b.dnsMsgs) {
			b.dnsMsgs = append(b.dnsMsgs, dnsmsg.Message{})[:n]
		}
		if prepareDNS(p, &l.dnsMsg, &b.dnsMsgs[:n+1][n]) {
			b.dnsMsgs = b.dnsMsgs[:n+1]
			it.dns = int32(n + 1)
		}
	}
	if looksLikeClientHello(p.Payload) {
		n := len(b.hellos)
		b.hellos = slices.Grow(b.hellos, 1)
		if prepareHello(p, &l.hello, &l.prints, &b.hellos[:n+1][n]) {
			b.hellos = b.hellos[:n+1]
			it.hello = int32(n + 1)
		}
	}
}

// mayPrepare reports whether prepare may have work on p: every packet but TCP without SYN or RST whose
// payload does not begin as a TLS handshake record. It is prepare's conditions loosened to what a few
// compares decide, so that the segments of a download (nearly every packet of a gateway capture) skip the
// call; TestMayPrepareCoversPrepare holds it to prepare.
func mayPrepare(p *decode.Packet) bool {
	return p.IPProto != protoTCP || p.TCPFlags&(flagSYN|flagRST) != 0 || len(p.Payload) > 5 && p.Payload[0] == 0x16
}

// packetSlot returns where to decode frame f so that put takes the packet without copying it: the lane's
// own packet inline, or the batch's next packet on a worker when f's bytes stay in their chunk (held for it
// now). It returns nil when there is no such place (a worker, a frame that will be copied): the caller
// decodes into a packet of its own, which put copies.
func (l *lane) packetSlot(f *capture.Frame) *decode.Packet {
	switch {
	case l.inline():
		return &l.pkt
	case f.Chunk == nil:
		return nil
	}
	b := l.holdChunk(f.Chunk)
	b.pkts = prefault.Grow(b.pkts, 1) // items refer to packets by index, so moving them is safe
	return &b.pkts[:len(b.pkts)+1][len(b.pkts)]
}

// tick tells the lane's engine to sweep at capture time now; key places what the sweep finishes.
func (l *lane) tick(key batchKey, now time.Time) {
	if l.inline() {
		l.eng.sweep(now)
		l.eng.flush(key)
		return
	}
	b := l.batch()
	b.items = append(prefault.Grow(b.items, 1), item{kind: itemTick, seq: key.seq, phase: key.phase, now: now})
	l.send()
}

// close sends a worker the last item, numbered seq, and waits for it to finish.
func (l *lane) close(seq uint64) {
	b := l.batch()
	b.items = append(prefault.Grow(b.items, 1), item{kind: itemEnd, seq: seq})
	l.send()
	close(l.in)
	<-l.done
}

// tracked is how many connections the lane's engine holds (on a worker: as of its last batch).
func (l *lane) tracked() int {
	if l.inline() {
		return l.eng.Tracked()
	}
	return int(l.size.Load())
}

// do runs one packet or frame on the engine.
func (l *lane) do(kind itemKind, seq uint64, clock, ns int64, f *capture.Frame, p *decode.Packet) {
	e := l.eng
	e.clockNs = max(e.clockNs, clock)
	if p == nil {
		owned := &e.facts // a copy of a frame is counted by its owner
		if kind == itemDNSCopy {
			owned = nil
		}
		if p = &l.pkt; !decodeFrame(l.dec, f, p, owned) {
			return
		}
	}
	if kind == itemDNSCopy {
		e.dnsCopy(seq, f, p)
	} else {
		e.packet(seq, ns, f, p)
	}
	e.flush(batchKey{seq: seq, phase: 1})
}

// run processes batches until the input closes, passing finished records and its progress to the merger.
func (l *lane) run() {
	defer close(l.done)
	for b := range l.in {
		last := batchKey{}
		for i := range b.items {
			last = l.process(b, &b.items[i])
		}
		for i, c := range b.chunks {
			c.Release()
			b.chunks[i] = nil
		}
		b.chunks, b.held = b.chunks[:0], nil
		l.free <- b
		l.size.Store(int64(l.eng.Tracked()))
		l.merge.in <- progress{worker: l.id, upTo: last, batches: l.handOver()}
	}
}

// handOver gives the records the engine finished in this work batch to the merger, as one batch per capture
// position that finished some; the last batch in each of the engine's record slices carries that slice, which
// the merger hands back to the engine once it is written.
func (l *lane) handOver() []keyedRecords {
	if len(l.out) == 0 {
		return nil
	}
	e := l.eng
	batches := make([]keyedRecords, len(l.out))
	for i, r := range l.out {
		batches[i] = keyedRecords{key: r.key, recs: r.recs, worker: l.id, backing: r.backing}
	}
	if e.batchStart > 0 { // the engine's current slice holds the last batches
		batches[len(batches)-1].backing = e.batch[:e.batchStart]
		e.batch, e.batchStart = l.spare(), 0
	}
	clear(l.out)
	l.out = l.out[:0]
	return batches
}

// batchFull takes the engine's full record slice (Engine.full): the current item's records in it wait in
// unkeyed for their key, and the slice is marked on its last batch for the merger to hand back.
func (l *lane) batchFull(recs []result.Record, start int) []result.Record {
	if start < len(recs) {
		l.unkeyed = append(l.unkeyed, recordRange{recs: recs[start:len(recs):len(recs)], backing: recs})
	} else {
		l.out[len(l.out)-1].backing = recs // out noted every record of recs, the last of them last
	}
	if s := l.spare(); cap(s) >= len(recs) {
		return s
	}
	return newRecordSlice(len(recs))
}

// spare returns a record slice the merger has written out and handed back, or nil.
func (l *lane) spare() []result.Record {
	select {
	case s := <-l.merge.spare[l.id]:
		return s
	default:
		return nil
	}
}

// recordRange is a run of an engine's records finished at one capture position; backing, on the last run in
// one of the engine's record slices, is that slice.
type recordRange struct {
	key     batchKey
	recs    []result.Record
	backing []result.Record
}

// process runs one item and returns the key up to which this engine has finished.
func (l *lane) process(b *batch, it *item) batchKey {
	switch it.kind {
	case itemTick:
		key := batchKey{seq: it.seq, phase: it.phase}
		l.eng.sweep(it.now)
		l.eng.flush(key)
		return key
	case itemEnd:
		return batchKey{seq: math.MaxUint64, phase: math.MaxUint8}
	}
	var p *decode.Packet
	if it.pkt >= 0 {
		p = &b.pkts[it.pkt]
	}
	if it.hello > 0 {
		l.eng.prepared = &b.hellos[it.hello-1]
	}
	if it.dns > 0 {
		l.eng.preparedDNS = &b.dnsMsgs[it.dns-1]
	}
	l.eng.checksum = it.checksum
	l.do(it.kind, it.seq, it.clock, it.ns, &it.frame, p)
	l.eng.prepared, l.eng.preparedDNS, l.eng.checksum = nil, nil, 0
	return batchKey{seq: it.seq, phase: 1}
}

// holdChunk returns the batch to add a frame of chunk c to, holding c for it. Nearly every frame lies in
// the chunk the batch holds last, which is checked here, small enough to be inlined; holdNewChunk does the
// rest.
func (l *lane) holdChunk(c *capture.Chunk) *batch {
	if b := l.cur; b != nil && b.held == c {
		return b
	}
	return l.holdNewChunk(c)
}

// holdNewChunk is holdChunk for a frame of a chunk the batch being filled does not hold last (or when no
// batch is being filled).
func (l *lane) holdNewChunk(c *capture.Chunk) *batch {
	b := l.batch()
	if b.held != c {
		if len(b.chunks) == maxBatchChunks {
			l.send()
			b = l.batch()
		}
		c.Retain()
		b.chunks, b.held = append(b.chunks, c), c
	}
	return b
}

// room returns the batch to copy n more bytes into: the batch being filled, its arena grown while smaller
// than arenaSize, or, once that is full, the next batch.
func (l *lane) room(n int) *batch {
	b := l.batch()
	if n == 0 || len(b.arena)+n <= cap(b.arena) {
		return b
	}
	if cap(b.arena) >= arenaSize && len(b.items) > 0 {
		l.send()
		if b = l.batch(); len(b.arena)+n <= cap(b.arena) {
			return b
		}
	}
	// Grow: the copies already made keep the old arena alive until the batch is done with them.
	b.arena = make([]byte, 0, max(min(2*cap(b.arena), arenaSize), firstArenaSize, n))
	return b
}

// nextItem adds an item to the batch and returns it, for the caller to fill in place: an item is 160 bytes,
// which a composite literal would build on the stack and append would copy again, twice a packet.
func (b *batch) nextItem() *item {
	n := len(b.items)
	if n == cap(b.items) {
		b.growItems()
	}
	b.items = b.items[:n+1]
	return &b.items[n]
}

// growItems makes room for one more item (a lane's first batch grows as it fills).
func (b *batch) growItems() { b.items = prefault.Grow(b.items, 1) }

// copy appends data to the arena and returns the copy.
func (b *batch) copy(data []byte) []byte {
	start := len(b.arena)
	b.arena = append(b.arena, data...)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// batch returns the batch being filled, taking a free one (or making one) when there is none.
func (l *lane) batch() *batch {
	if l.cur != nil {
		return l.cur
	}
	select {
	case l.cur = <-l.free:
	default:
		if l.made < maxBatches {
			l.made++
			l.cur = &batch{items: make([]item, 0, l.batchRoom), pkts: make([]decode.Packet, 0, l.batchRoom)}
			prefault.Slice(l.cur.items) // written item after item from now on: one call, not a fault a page
			prefault.Slice(l.cur.pkts)
		} else {
			l.cur = <-l.free
		}
	}
	clear(l.cur.hellos) // their strings belong to records now, or to no one
	l.cur.items, l.cur.pkts, l.cur.arena, l.cur.hellos = l.cur.items[:0], l.cur.pkts[:0], l.cur.arena[:0], l.cur.hellos[:0]
	l.cur.dnsMsgs = l.cur.dnsMsgs[:0] // kept whole: CopyTo reuses their slices
	return l.cur
}

// send hands the batch being filled to the worker.
func (l *lane) send() {
	if l.cur != nil {
		l.batchRoom = max(l.batchRoom, min(batchItems, cap(l.cur.items), cap(l.cur.pkts)))
		l.in <- l.cur
		l.cur = nil
	}
}
