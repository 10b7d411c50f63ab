package analyze

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
)

// Run reads src to its end and reports every record to sink, then the summary, with hooks.Facts() (called
// after the last frame) describing the input. It is the one run loop: analyze, check and baseline run it over
// files, live over an interface. With opts.Workers above 1 it shards connections over that many
// engines, each on its own goroutine; both directions of a connection go to one engine, and DNS answers are
// shown to all of them so every engine names its connections as one would. With one engine and more than one
// core, a capture.Reader's frames are read and decoded in the calling goroutine and analysed on another
// (pipelined); otherwise the one engine runs in the calling goroutine.
// Every engine sweeps on the same ticks of capture time, and records are merged in the order a single engine
// gives, so the output is the same bytes whatever the number of workers (as long as no connection is evicted
// under the memory caps, which are split between the engines).
func Run(src Source, opts Options, sink result.Sink, hooks Hooks) error {
	workers := max(opts.Workers, 1)
	retains := false
	if workers > 1 || runtime.GOMAXPROCS(0) > 1 {
		retains = src.Retain()
	}
	d, err := newDriver(opts, sink, hooks, workers == 1 && retains && runtime.GOMAXPROCS(0) > 1)
	if err != nil {
		return err
	}
	readErr := d.read(src)
	endErr := d.end()
	if err := errors.Join(readErr, endErr); err != nil {
		return err
	}
	var facts result.CaptureFacts
	if hooks.Facts != nil {
		facts = hooks.Facts()
	}
	return d.summarize(facts)
}

// driver owns the read loop: decoding, capture-time ticks, sharding and the frame-level counts.
type driver struct {
	engines []*Engine // with one engine it runs on the reading goroutine, else each on a worker
	workers []*worker // workers[i] runs engines[i]; nil with one engine
	merge   *merger
	sink    result.Sink
	hooks   Hooks
	dec     *decode.Decoder
	pkt     decode.Packet
	seq     uint64
	now     time.Time
	nowNs   int64 // now and the last sweep in Unix nanoseconds: compared for every packet
	sweepNs int64
	firstNs int64 // facts.first and facts.last in Unix nanoseconds
	lastNs  int64
	facts   engineFacts // frame-level counts
}

func newDriver(opts Options, sink result.Sink, hooks Hooks, pipelined bool) (*driver, error) {
	n := max(opts.Workers, 1)
	if opts.MaxConnections > 0 {
		opts.MaxConnections = max(opts.MaxConnections/n, 1)
	} else {
		opts.MaxConnections = DefaultMaxConnections / n
	}
	d := &driver{sink: sink, hooks: hooks, dec: decode.NewDecoder(decode.Options{})}
	for i := 0; i < n; i++ {
		e, err := New(opts, sink)
		if err != nil {
			return nil, err
		}
		e.driven = true
		d.engines = append(d.engines, e)
	}
	if n > 1 || pipelined {
		d.merge = newMerger(n, sink)
		for i, e := range d.engines {
			w := newWorker(i, e, d.merge)
			if n == 1 {
				w.pktsCap = batchItems
			}
			d.workers = append(d.workers, w)
			go w.run()
		}
		go d.merge.run()
	}
	return d, nil
}

// owner is the engine of a flow with hash h: the hash's top half scaled to [0, engines).
func (d *driver) owner(h uint64) int {
	return int((h >> 32) * uint64(len(d.engines)) >> 32)
}

// read feeds every frame of src to the engines. Capture time ticks on every frame, so the engines sweep at
// the same moments whatever their number. With several engines, a plain Ethernet TCP/UDP frame goes to its
// engine undecoded (decoding runs in parallel); every other frame is decoded here first.
func (d *driver) read(src Source) error {
	for {
		f, quiet, err := src.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read packets: %w", err)
		}
		if f == nil {
			if err := d.quiet(quiet); err != nil {
				return err
			}
			continue
		}
		if d.hooks.Frame != nil {
			if err := d.hooks.Frame(f); err != nil {
				return err
			}
		}
		d.seq++
		ns := f.Timestamp.UnixNano()
		d.countFrame(f, ns)
		d.tickIfDue(f.Timestamp, ns)
		if len(d.workers) == 1 && f.Chunk != nil {
			d.pipe(f)
			if err := d.firstError(); err != nil {
				return err
			}
			continue
		}
		if len(d.workers) > 1 {
			if id, ok := quickFlow(f); ok {
				d.dispatchFrame(f, &id)
				if err := d.firstError(); err != nil {
					return err
				}
				continue
			}
		}
		if !d.decode(f) {
			continue
		}
		d.dispatch(f)
		if err := d.firstError(); err != nil {
			return err
		}
	}
}

// quiet moves capture time to now without a frame (a live source while the wire is quiet), sweeping if due,
// then tells the caller.
func (d *driver) quiet(now time.Time) error {
	d.tick(now, now.UnixNano(), batchKey{seq: d.seq, phase: 2})
	if err := d.firstError(); err != nil {
		return err
	}
	if d.hooks.Quiet == nil {
		return nil
	}
	tracked := 0
	for _, e := range d.engines {
		if d.workers == nil {
			tracked += e.Tracked()
		}
	}
	return d.hooks.Quiet(tracked)
}

// decode decodes f into d.pkt and reports whether it is a TCP or UDP packet for the engines.
func (d *driver) decode(f *capture.Frame) bool { return d.decodeTo(f, &d.pkt) }

// decodeTo decodes f into p and reports whether it is a TCP or UDP packet for the engines.
func (d *driver) decodeTo(f *capture.Frame, p *decode.Packet) bool {
	if err := d.dec.Decode(f, p); err != nil {
		d.facts.undecodable++
		return false
	}
	if p.Truncated {
		d.facts.truncated++
	}
	return !p.Fragment && (p.IPProto == protoTCP || p.IPProto == protoUDP)
}

// pipe decodes f straight into the batch of the only worker, which holds f's chunk for the payload. (A
// payload lies in the frame, or in a datagram reassembled from fragments that no one else holds.)
func (d *driver) pipe(f *capture.Frame) {
	w := d.workers[0]
	b := w.holdChunk(f.Chunk)
	n := len(b.pkts)
	if n < cap(b.pkts) {
		b.pkts = b.pkts[:n+1]
	} else {
		b.pkts = append(b.pkts, decode.Packet{})
	}
	if !d.decodeTo(f, &b.pkts[n]) {
		b.pkts = b.pkts[:n]
		return
	}
	b.items = append(b.items, item{kind: itemPacket, seq: d.seq, frame: *f, pkt: int32(n)})
	if len(b.items) == batchItems {
		w.send()
	}
}

// countFrame counts a frame and keeps the earliest and latest timestamps (ns is the frame's in Unix
// nanoseconds, compared instead of the time.Time).
func (d *driver) countFrame(f *capture.Frame, ns int64) {
	d.facts.packets++
	d.facts.bytes += uint64(f.WireLen)
	if d.facts.packets == 1 || ns < d.firstNs {
		d.facts.first, d.firstNs = f.Timestamp, ns
	}
	if d.facts.packets == 1 || ns > d.lastNs {
		d.facts.last, d.lastNs = f.Timestamp, ns
	}
}

// tickIfDue tells every engine to sweep when capture time has moved a second since the last sweep.
func (d *driver) tickIfDue(ts time.Time, ns int64) { d.tick(ts, ns, batchKey{seq: d.seq, phase: 0}) }

// tick moves capture time to ts (ns in Unix nanoseconds) if later, and tells every engine to sweep when it
// has moved a second since the last sweep; key places what the sweep finishes among the other records.
func (d *driver) tick(ts time.Time, ns int64, key batchKey) {
	if ns > d.nowNs {
		d.now, d.nowNs = ts, ns
	}
	if d.nowNs-d.sweepNs < int64(time.Second) && d.sweepNs != 0 {
		return
	}
	d.sweepNs = d.nowNs
	if d.workers == nil {
		d.engines[0].sweep(d.now)
		d.engines[0].flush(key)
		return
	}
	for _, w := range d.workers {
		w.add(item{kind: itemTick, seq: key.seq, phase: key.phase, now: d.now})
	}
}

// dispatch hands a decoded packet to the engine that owns its connection, and a DNS packet to all engines.
func (d *driver) dispatch(f *capture.Frame) {
	p := &d.pkt
	if d.workers == nil {
		d.engines[0].packet(d.seq, f, p)
		d.engines[0].flush(batchKey{seq: d.seq, phase: 1})
		return
	}
	if len(d.workers) == 1 {
		d.workers[0].addPacket(itemPacket, d.seq, f, p)
		return
	}
	id := flowOfPacket(p)
	owner, dns := d.owner(id.hash()), id.dns()
	for i, w := range d.workers {
		if i == owner {
			w.addPacket(itemPacket, d.seq, f, p)
		} else if dns {
			w.addPacket(itemDNSCopy, d.seq, f, p)
		}
	}
}

// dispatchFrame hands an undecoded frame to the engine that owns its flow, and a DNS frame to all engines.
func (d *driver) dispatchFrame(f *capture.Frame, id *flowID) {
	owner, dns := d.owner(id.hash()), id.dns()
	for i, w := range d.workers {
		if i == owner {
			w.addFrame(itemPacket, d.seq, f)
		} else if dns {
			w.addFrame(itemDNSCopy, d.seq, f)
		}
	}
}

// firstError reports a sink error as soon as one is known.
func (d *driver) firstError() error {
	if d.workers == nil {
		return d.engines[0].err
	}
	return d.merge.error()
}

// end reports everything still open, as one batch after the last packet.
func (d *driver) end() error {
	if d.workers == nil {
		if e := d.engines[0]; e.err != nil {
			return e.err
		}
		return writeEnd(d.engines, d.sink)
	}
	for _, w := range d.workers {
		w.add(item{kind: itemEnd, seq: d.seq + 1})
		w.send()
		close(w.in)
	}
	for _, w := range d.workers {
		<-w.done
	}
	d.merge.close()
	if err := d.merge.error(); err != nil {
		return err
	}
	return writeEnd(d.engines, d.sink) // the workers are done: their engines are this goroutine's now
}

// summarize merges the engines' counts and writes the summary.
func (d *driver) summarize(facts result.CaptureFacts) error {
	e := d.engines[0]
	for _, o := range d.engines[1:] {
		e.stats.merge(o.stats)
		e.facts.addConnFacts(&o.facts)
	}
	e.facts.packets, e.facts.bytes = d.facts.packets, d.facts.bytes
	e.facts.first, e.facts.last = d.facts.first, d.facts.last
	e.facts.truncated += d.facts.truncated
	e.facts.undecodable += d.facts.undecodable
	s := e.summary(facts)
	if err := d.sink.Summary(&s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// addConnFacts adds another engine's per-connection counts.
func (f *engineFacts) addConnFacts(o *engineFacts) {
	f.connections += o.connections
	f.dnsExchanges += o.dnsExchanges
	f.oneSided += o.oneSided
	f.midstream += o.midstream
	f.evicted += o.evicted
	f.panics += o.panics
	f.undecodableDNS += o.undecodableDNS
	f.duplicates += o.duplicates
	f.truncated += o.truncated
	f.undecodable += o.undecodable
}

// item is one unit of work for an engine on another goroutine.
type item struct {
	kind  uint8
	phase uint8 // itemTick: 0 before the packet numbered seq, 2 after it (a quiet tick)
	pkt   int32 // index of the decoded packet in the batch's pkts; -1: the worker decodes frame
	seq   uint64
	now   time.Time
	frame capture.Frame // with a decoded packet, metadata only (Data is not kept)
}

const (
	itemPacket  uint8 = iota // a packet of a flow the engine owns
	itemDNSCopy              // a copy of a DNS packet another engine owns, read for names only
	itemTick
	itemEnd
)

// workBatch carries items to a worker; payloads are copied into one arena so the reader's buffers can move on.
type workBatch struct {
	items  []item
	pkts   []decode.Packet // packets the reading goroutine decoded (few), apart so that items stay small
	arena  []byte
	chunks []*capture.Chunk // held for frames whose bytes stay in the reader's chunks
}

// batchItems is how many items go to a worker at once: enough to make channel costs vanish per packet.
const batchItems = 512

// worker runs one engine on its own goroutine.
type worker struct {
	id   int
	eng  *Engine
	dec  *decode.Decoder // for frames the reading goroutine did not decode
	pkt  decode.Packet
	in   chan *workBatch
	free chan *workBatch
	cur  *workBatch
	made int // batches made so far
	// pktsCap is the room for decoded packets a new batch starts with: every packet with one worker (the
	// reading goroutine decodes them all), none with several (it decodes only the frames it cannot shard).
	pktsCap int
	done    chan struct{}
	merge   *merger
	out     []keyedRecords
}

// keyedRecords is a batch of records an engine finished, with the capture position that finished them and
// the worker whose engine it goes back to once written.
type keyedRecords struct {
	key    batchKey
	recs   []result.Record
	worker int
}

// spareRecordSlices is how many written record batches wait for their engine to refill them: each engine
// hands its batch to the merger and takes a written one back, so the records of a long run reuse the same
// memory instead of faulting in fresh pages until the next collection.
const spareRecordSlices = 16

// maxSpareRecords is the largest batch (in records) handed back for reuse: the batch of a sweep that expires
// many connections at once is left to the collector, so that spare batches keep no more than a few MiB.
const maxSpareRecords = 1024

func newWorker(id int, e *Engine, m *merger) *worker {
	w := &worker{id: id, eng: e, dec: decode.NewDecoder(decode.Options{}), in: make(chan *workBatch, 8),
		free: make(chan *workBatch, maxBatches), done: make(chan struct{}), merge: m}
	spare := m.spare[id]
	e.out = func(k batchKey, recs []result.Record) []result.Record {
		w.out = append(w.out, keyedRecords{key: k, recs: recs, worker: id})
		select {
		case s := <-spare:
			return s
		default:
			return nil
		}
	}
	return w
}

// addPacket queues a packet: it holds the frame's chunk when it has one, else copies the payload.
func (w *worker) addPacket(kind uint8, seq uint64, f *capture.Frame, p *decode.Packet) {
	if f.Chunk != nil {
		w.addChunkPacket(kind, seq, f, p)
		return
	}
	b := w.batch()
	if len(p.Payload) > 0 && len(b.arena)+len(p.Payload) > cap(b.arena) && len(b.items) > 0 && cap(b.arena) > 0 {
		w.send()
		b = w.batch()
	}
	if len(p.Payload) > 0 && cap(b.arena) == 0 {
		b.arena = make([]byte, 0, arenaSize)
	}
	it := item{kind: kind, seq: seq, frame: *f, pkt: int32(len(b.pkts))}
	it.frame.Data = nil
	b.pkts = append(b.pkts, *p)
	if len(p.Payload) > 0 {
		start := len(b.arena)
		b.arena = append(b.arena, p.Payload...)
		b.pkts[it.pkt].Payload = b.arena[start:len(b.arena):len(b.arena)]
	}
	b.items = append(b.items, it)
	if len(b.items) == batchItems {
		w.send()
	}
}

// addFrame queues an undecoded frame: it holds the frame's chunk when it has one, else copies its bytes.
func (w *worker) addFrame(kind uint8, seq uint64, f *capture.Frame) {
	if f.Chunk != nil {
		w.addChunkFrame(kind, seq, f)
		return
	}
	b := w.batch()
	if len(b.arena)+len(f.Data) > cap(b.arena) && len(b.items) > 0 && cap(b.arena) > 0 {
		w.send()
		b = w.batch()
	}
	if cap(b.arena) == 0 {
		b.arena = make([]byte, 0, arenaSize)
	}
	it := item{kind: kind, pkt: -1, seq: seq, frame: *f}
	start := len(b.arena)
	b.arena = append(b.arena, f.Data...)
	it.frame.Data = b.arena[start:len(b.arena):len(b.arena)]
	b.items = append(b.items, it)
	if len(b.items) == batchItems {
		w.send()
	}
}

// maxBatchChunks bounds the chunks one batch holds, so a worker that gets few frames (DNS copies only, say)
// does not keep many megabytes of capture alive until its batch fills.
const maxBatchChunks = 2

// addChunkFrame queues a frame whose bytes stay in place: the batch holds its chunk until the worker is done.
func (w *worker) addChunkFrame(kind uint8, seq uint64, f *capture.Frame) {
	b := w.holdChunk(f.Chunk)
	b.items = append(b.items, item{kind: kind, pkt: -1, seq: seq, frame: *f})
	if len(b.items) == batchItems {
		w.send()
	}
}

// addChunkPacket queues a decoded packet whose payload stays in place: the batch holds its chunk.
func (w *worker) addChunkPacket(kind uint8, seq uint64, f *capture.Frame, p *decode.Packet) {
	b := w.holdChunk(f.Chunk)
	it := item{kind: kind, seq: seq, frame: *f, pkt: int32(len(b.pkts))}
	b.pkts = append(b.pkts, *p)
	b.items = append(b.items, it)
	if len(b.items) == batchItems {
		w.send()
	}
}

// holdChunk returns the batch to add a frame of chunk c to, holding c for it.
func (w *worker) holdChunk(c *capture.Chunk) *workBatch {
	b := w.batch()
	if n := len(b.chunks); n == 0 || b.chunks[n-1] != c {
		if n == maxBatchChunks {
			w.send()
			b = w.batch()
		}
		c.Retain()
		b.chunks = append(b.chunks, c)
	}
	return b
}

// add queues a tick or the end.
func (w *worker) add(it item) {
	b := w.batch()
	b.items = append(b.items, it)
	if len(b.items) == batchItems || it.kind != itemPacket {
		w.send()
	}
}

// maxBatches bounds the batches of one worker, queued or being filled; they are made as needed, so a short
// capture does not pay for all of them.
const maxBatches = 10

// arenaSize is the arena of a batch, made when the batch first copies a frame (pcapng frames, decoded
// packets); pcap frames are held in place and need none.
const arenaSize = 256 << 10

func (w *worker) batch() *workBatch {
	if w.cur != nil {
		return w.cur
	}
	select {
	case w.cur = <-w.free:
	default:
		if w.made < maxBatches {
			w.made++
			w.cur = &workBatch{items: make([]item, 0, batchItems), pkts: make([]decode.Packet, 0, w.pktsCap)}
		} else {
			w.cur = <-w.free
		}
	}
	w.cur.items, w.cur.pkts, w.cur.arena = w.cur.items[:0], w.cur.pkts[:0], w.cur.arena[:0]
	return w.cur
}

func (w *worker) send() {
	if w.cur != nil {
		w.in <- w.cur
		w.cur = nil
	}
}

// run processes batches until the input closes, passing finished records and its progress to the merger.
func (w *worker) run() {
	defer close(w.done)
	for b := range w.in {
		last := batchKey{}
		for i := range b.items {
			last = w.process(b, &b.items[i])
		}
		for i, c := range b.chunks {
			c.Release()
			b.chunks[i] = nil
		}
		b.chunks = b.chunks[:0]
		w.free <- b
		w.merge.in <- progress{worker: w.id, upTo: last, batches: w.out}
		w.out = nil
	}
}

// process runs one item and returns the key up to which this engine has finished.
func (w *worker) process(b *workBatch, it *item) batchKey {
	e := w.eng
	switch it.kind {
	case itemTick:
		e.sweep(it.now)
		e.flush(batchKey{seq: it.seq, phase: it.phase})
		return batchKey{seq: it.seq, phase: it.phase}
	case itemEnd: // what is still open is written by the driver, merged across engines (writeEnd)
		return batchKey{seq: math.MaxUint64, phase: math.MaxUint8}
	}
	var p *decode.Packet
	if it.pkt >= 0 {
		p = &b.pkts[it.pkt]
	} else {
		p = &w.pkt
		if !decodeFor(w.dec, &w.pkt, &it.frame, e, it.kind == itemPacket) {
			return batchKey{seq: it.seq, phase: 1}
		}
	}
	if it.kind == itemDNSCopy {
		e.dnsCopy(it.seq, &it.frame, p)
	} else {
		e.packet(it.seq, &it.frame, p)
	}
	e.flush(batchKey{seq: it.seq, phase: 1})
	return batchKey{seq: it.seq, phase: 1}
}

// decodeFor decodes a frame the reading goroutine passed on undecoded into p, for engine e, counting what the
// driver would have when e owns the frame (DNS copies are counted once, by their owner).
func decodeFor(dec *decode.Decoder, p *decode.Packet, f *capture.Frame, e *Engine, owner bool) bool {
	if err := dec.Decode(f, p); err != nil {
		if owner {
			e.facts.undecodable++
		}
		return false
	}
	if p.Truncated && owner {
		e.facts.truncated++
	}
	return !p.Fragment && (p.IPProto == protoTCP || p.IPProto == protoUDP)
}

// progress is a worker's report: the records it finished and the capture position it has reached.
type progress struct {
	worker  int
	upTo    batchKey
	batches []keyedRecords
}

// merger writes the workers' records to the sink in the order one engine would: by the capture position that
// finished them, then by where each began. A batch is written once every worker has passed its position.
type merger struct {
	in      chan progress
	sink    result.Sink
	upTo    []batchKey
	queue   []keyedRecords
	order   []keyedRecord          // the records release writes, sorted; reused
	written []keyedRecords         // the batches release writes; reused
	spare   []chan []result.Record // per worker: written record batches, emptied, for its engine to reuse
	done    chan struct{}
	err     error
	errSeen chan error
}

func newMerger(n int, sink result.Sink) *merger {
	m := &merger{in: make(chan progress, 4*n), sink: sink, upTo: make([]batchKey, n),
		spare: make([]chan []result.Record, n), done: make(chan struct{}), errSeen: make(chan error, 1)}
	for i := range m.spare {
		m.spare[i] = make(chan []result.Record, spareRecordSlices)
	}
	return m
}

func (m *merger) run() {
	defer close(m.done)
	for p := range m.in {
		m.upTo[p.worker] = p.upTo
		m.queue = append(m.queue, p.batches...)
		m.release()
	}
	m.release()
}

// release writes every queued batch no worker can still precede.
func (m *merger) release() {
	safe := slices.MinFunc(m.upTo, func(a, b batchKey) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	keep := m.queue[:0]
	m.order = m.order[:0]
	for i := range m.queue {
		b := &m.queue[i]
		if safe.less(b.key) {
			keep = append(keep, *b)
			continue
		}
		for j := range b.recs {
			m.order = append(m.order, keyedRecord{b.key, &b.recs[j]})
		}
		m.written = append(m.written, *b)
	}
	slices.SortStableFunc(m.order, func(a, b keyedRecord) int {
		if a.key != b.key {
			if a.key.less(b.key) {
				return -1
			}
			return 1
		}
		return cmpUint(a.rec.Order, b.rec.Order)
	})
	for _, k := range m.order {
		if m.err == nil {
			if err := m.sink.Record(k.rec); err != nil {
				m.err = fmt.Errorf("write record: %w", err)
				select {
				case m.errSeen <- m.err:
				default:
				}
			}
		}
	}
	clear(m.queue[len(keep):])
	m.queue = keep
	clear(m.order) // drop the pointers into written batches
	m.recycle()
}

// recycle hands the batches release wrote back to their engines, emptied; a batch no engine has room for is
// left to the collector.
func (m *merger) recycle() {
	for _, b := range m.written {
		if cap(b.recs) > maxSpareRecords {
			continue
		}
		clear(b.recs) // the strings and slices of written records are garbage now
		select {
		case m.spare[b.worker] <- b.recs[:0]:
		default:
		}
	}
	clear(m.written)
	m.written = m.written[:0]
}

// keyedRecord is a record waiting in the merger, with the capture position that finished it.
type keyedRecord struct {
	key batchKey
	rec *result.Record
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// error reports a sink error without waiting for the merger.
func (m *merger) error() error {
	select {
	case err := <-m.errSeen:
		m.errSeen <- err
		return err
	default:
		return nil
	}
}

// close waits for the merger to write everything.
func (m *merger) close() {
	close(m.in)
	<-m.done
}
