package analyze

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
)

// Run reads src to its end and reports every record to sink, then the summary, with hooks.Facts() (called
// after the last frame) describing the input. It is the one run loop: analyze, check and baseline run it
// over files, live over an interface.
//
// The analysis runs on lanes (lane.go), one engine each. With opts.Workers above 1 connections are sharded
// over that many lanes, each on a worker goroutine: both directions of a connection go to one lane, and DNS
// packets are copied to every lane so every engine names its connections as one would. With one engine and
// more than one core, a source that keeps frames in place (Source.Retain) is read and decoded on the calling
// goroutine and analysed on a worker (pipelined); otherwise the one lane runs inline, in the calling
// goroutine. This is decided once, here; the read loop does not branch on it.
// Every engine sweeps on the same ticks of capture time, and records are merged (merge.go, end.go) in the
// order a single engine gives, so the output is the same bytes whatever the number of workers (as long as no
// connection is evicted under the memory caps, which are split between the engines).
func Run(src Source, opts Options, sink result.Sink, hooks Hooks) error {
	n := max(opts.Workers, 1)
	onWorkers := n > 1
	if n > 1 || runtime.GOMAXPROCS(0) > 1 {
		retains := src.Retain() // called either way: several lanes read retained frames without copies
		onWorkers = n > 1 || retains
	}
	d, err := newDriver(opts, sink, hooks, n, onWorkers)
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

// driver owns the read loop: frame counts, decoding what the lanes do not, capture-time ticks, and handing
// each packet to its lane.
type driver struct {
	lanes   []*lane
	merge   *merger // nil when the one lane is inline
	sink    result.Sink
	hooks   Hooks
	dec     *decode.Decoder
	pkt     decode.Packet
	seq     uint64
	clock   captureClock // capture time for expiry: lone frames far ahead do not move it
	sweepNs int64        // the last sweep in Unix nanoseconds: compared for every packet
	firstNs int64        // facts.first and facts.last in Unix nanoseconds
	lastNs  int64
	facts   engineFacts // frame-level counts
}

func newDriver(opts Options, sink result.Sink, hooks Hooks, n int, onWorkers bool) (*driver, error) {
	if opts.MaxConnections > 0 {
		opts.MaxConnections = max(opts.MaxConnections/n, 1)
	} else {
		opts.MaxConnections = DefaultMaxConnections / n
	}
	if opts.Verifier == nil { // one for the run: every lane shares it; it builds its roots on the first chain
		opts.Verifier = certchain.NewPublicVerifier(nil)
	}
	d := &driver{sink: sink, hooks: hooks, dec: decode.NewDecoder(decode.Options{})}
	if onWorkers {
		d.merge = newMerger(n, sink)
		go d.merge.run()
	}
	for i := 0; i < n; i++ {
		e, err := New(opts, sink)
		if err != nil {
			return nil, err
		}
		d.lanes = append(d.lanes, newLane(i, e, d.merge))
	}
	return d, nil
}

// read feeds every frame of src to the lanes. Capture time ticks on every frame, so the engines sweep at the
// same moments whatever their number. With several lanes, a plain Ethernet TCP/UDP frame goes to its lane
// undecoded (decoding runs in parallel); every other frame is decoded here first.
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
		d.frame(f)
		if err := d.firstError(); err != nil {
			return err
		}
	}
}

// frame counts one frame, ticks, and hands it to its lane (or lanes, for DNS).
func (d *driver) frame(f *capture.Frame) {
	d.seq++
	ns := f.Timestamp.UnixNano()
	d.countFrame(f, ns)
	d.tick(f.Timestamp, ns, batchKey{seq: d.seq, phase: 0})
	if len(d.lanes) == 1 {
		l := d.lanes[0]
		p := l.packetSlot(f)
		if p == nil {
			p = &d.pkt
		}
		if decodeFrame(d.dec, f, p, &d.facts) {
			l.put(itemPacket, d.seq, d.clock.nowNs, ns, f, p)
		}
		return
	}
	if id, ok := quickFlow(f); ok {
		d.route(&id, ns, f, nil)
		return
	}
	if decodeFrame(d.dec, f, &d.pkt, &d.facts) {
		id := flowOfPacket(&d.pkt)
		d.route(&id, ns, f, &d.pkt)
	}
}

// route hands a frame (decoded into p, or nil for the lane to decode) to the lane that owns its flow, and a
// DNS frame to the others as a copy.
func (d *driver) route(id *flowID, ns int64, f *capture.Frame, p *decode.Packet) {
	owner, dns := d.owner(id.hash()), id.dns()
	for i, l := range d.lanes {
		if i == owner {
			l.put(itemPacket, d.seq, d.clock.nowNs, ns, f, p)
		} else if dns {
			l.put(itemDNSCopy, d.seq, d.clock.nowNs, ns, f, p)
		}
	}
}

// owner is the lane of a flow with hash h: the hash's top half scaled to [0, lanes).
func (d *driver) owner(h uint64) int {
	return int((h >> 32) * uint64(len(d.lanes)) >> 32)
}

// decodeFrame decodes f into p and reports whether it is a TCP or UDP packet, or an ICMP rejection, for an
// engine. What cannot be read is counted in facts (nil: counted elsewhere, for a copy of a frame its owner
// counts).
func decodeFrame(dec *decode.Decoder, f *capture.Frame, p *decode.Packet, facts *engineFacts) bool {
	if err := dec.Decode(f, p); err != nil {
		if facts != nil {
			facts.undecodable++
		}
		return false
	}
	if p.Truncated && facts != nil {
		facts.truncated++
	}
	return !p.Fragment && (p.IPProto == protoTCP || p.IPProto == protoUDP || isRejection(p))
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

// tick moves capture time to ts (ns in Unix nanoseconds) if later, and tells every lane to sweep when it has
// moved a second since the last sweep; key places what the sweep finishes among the other records.
func (d *driver) tick(ts time.Time, ns int64, key batchKey) {
	d.clock.observe(ts, ns)
	if d.clock.nowNs-d.sweepNs < int64(time.Second) && d.sweepNs != 0 {
		return
	}
	d.sweepNs = d.clock.nowNs
	for _, l := range d.lanes {
		l.tick(key, d.clock.now)
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
	for _, l := range d.lanes {
		tracked += l.tracked()
	}
	return d.hooks.Quiet(tracked)
}

// firstError reports a sink error as soon as one is known.
func (d *driver) firstError() error {
	if d.merge == nil {
		return d.lanes[0].eng.err
	}
	return d.merge.error()
}

// end reports everything still open, as one batch after the last packet.
func (d *driver) end() error {
	if d.merge != nil {
		for _, l := range d.lanes {
			l.close(d.seq + 1)
		}
		d.merge.close()
	}
	if err := d.firstError(); err != nil {
		return err
	}
	engines := make([]*Engine, len(d.lanes))
	for i, l := range d.lanes {
		engines[i] = l.eng // the workers are done: their engines are this goroutine's now
	}
	return writeEnd(engines, d.sink)
}

// summarize merges the engines' counts and writes the summary.
func (d *driver) summarize(facts result.CaptureFacts) error {
	e := d.lanes[0].eng
	for _, l := range d.lanes[1:] {
		e.stats.merge(l.eng.stats)
		e.facts.addConnFacts(&l.eng.facts)
	}
	e.facts.packets, e.facts.bytes = d.facts.packets, d.facts.bytes
	e.facts.first, e.facts.last = d.facts.first, d.facts.last
	e.facts.truncated += d.facts.truncated
	e.facts.undecodable += d.facts.undecodable
	d.clock.end()
	e.facts.timeJumps = d.clock.jumps
	s := e.summary(facts)
	addFragments(&s.Capture.Quality, d.decoderStats())
	if err := d.sink.Summary(&s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// decoderStats sums the fragment counts of every decoder: the reading goroutine's and each lane's.
func (d *driver) decoderStats() decode.Stats {
	st := d.dec.Stats()
	for _, l := range d.lanes {
		addStats(&st, l.dec.Stats())
	}
	return st
}
