package analyze

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/analyze/quic"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/prefault"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// Options tune an Engine. Zero values take the documented defaults (docs/report.md, "Limits").
type Options struct {
	Matcher *rules.Matcher  // required
	FailOn  []rules.Verdict // verdicts counted as failures in the summary; default blocked, reset, intercepted
	Files   []string        // capture file names; records name their file only when there are several
	Workers int             // engines Analyze runs in parallel (default 1)

	MaxConnections int // connections tracked at once; the oldest idle are evicted first (DefaultMaxConnections)
	MaxDNSNames    int // (client, address) → name entries remembered from DNS answers (DefaultMaxDNSNames)
	MaxDNSBytes    int // bytes of those entries and the chains they share, per engine (DefaultMaxDNSBytes)
	MaxHeldDNS     int // failed lookups held back until the end to see whether a retry succeeded (default 65,536)
	MaxStreamBytes int // client bytes buffered per connection to read a name (default 16 KiB + headers)

	// HalfOpenTimeout is how long after its last SYN an unanswered connection is reported (130s: Linux sends its
	// sixth and last SYN retransmission 63s after the first, 32s after the fifth, and gives up at 127s).
	HalfOpenTimeout time.Duration
	IdleTimeout     time.Duration // an idle established connection is reported and forgotten (5m)
	ClosedLinger    time.Duration // a closed connection waits this long for stray packets (5s)
	UDPTimeout      time.Duration // an idle UDP flow is reported (60s)
	DNSTimeout      time.Duration // a query without an answer is reported unanswered (10s)
	// ReportEstablished reports a connection as soon as its handshake completed and its name is known, instead
	// of when it ends (live mode); one that then ends with another verdict is reported again.
	ReportEstablished bool
	// Verifier classifies the certificate chains TLS servers send (cert_chain), at capture time. One may serve
	// every engine of a run. Nil: each engine builds one on first use, with the public roots alone.
	Verifier *certchain.Verifier
	// HoldDNSFailures is how long a failed lookup waits for a successful one for the same client and name
	// before it is reported as blocked. Zero holds it until the end of the capture (offline analysis).
	HoldDNSFailures time.Duration

	// recordSlice is how many records an engine queues in one slice (maxBatchRecords); tests set it small to
	// make every sweep and work batch span several slices.
	recordSlice int
}

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxConnections, DefaultMaxConnections)
	def(&o.MaxDNSNames, DefaultMaxDNSNames)
	def(&o.MaxDNSBytes, DefaultMaxDNSBytes)
	def(&o.MaxHeldDNS, 1<<16)
	def(&o.MaxStreamBytes, tlshello.MaxStream)
	def(&o.recordSlice, maxBatchRecords)
	defDur(&o.HalfOpenTimeout, 130*time.Second)
	defDur(&o.IdleTimeout, 5*time.Minute)
	defDur(&o.ClosedLinger, 5*time.Second)
	defDur(&o.UDPTimeout, 60*time.Second)
	defDur(&o.DNSTimeout, 10*time.Second)
	if o.FailOn == nil {
		o.FailOn = rules.DefaultFailOn()
	}
}

// DefaultMaxConnections bounds the connection table: about 470 bytes a half-open connection, so a SYN flood
// costs at most some 250 MiB.
const DefaultMaxConnections = 1 << 19

// DefaultMaxDNSNames bounds the (client, address) → name entries kept from DNS answers, and the names known
// to have resolved: about 200 bytes each.
const DefaultMaxDNSNames = 1 << 18

// Engine is one analysis. It is not safe for concurrent use: feed it packets from one goroutine.
type Engine struct {
	opts Options
	sink result.Sink

	// Connections (conn_table.go).
	conns                           map[flowKey]*conn
	recent                          [recentSlots]recentConn // connections of recent packets, checked before the map
	byTuple                         map[flowKey]*conn       // latest connection per 5-tuple, VLANs cleared
	addrText                        addrText                // text of the addresses records name (addr_text.go)
	halfOpen, active, closing, udps lruList

	// Payload (payload.go).
	pool        bufPool
	serverPool  bufPool    // buffers of the server's first bytes, kept apart: smaller than the clients'
	freeStreams []*streams // stream records of retired connections, for reuse
	tls         tlsEngine  // server flights and the chain verifier (tls_server.go)

	// QUIC (quic_flow.go, quic_fallback.go).
	quicFree []*quic.Flow // decryptors of finished QUIC flows, for reuse
	quicLive int          // decryptors held by flows now
	quicHeld heldDNS      // blocked QUIC flows waiting to learn whether the client fell back to TCP
	reached  tcpReached   // client+name → starts of TCP connections to port 443 that got through

	// DNS (dns.go) and the names it gives (dns_cache.go).
	dns   dnsState
	names *dnsCache // client+address → name, from DNS answers

	// Time, records and counts.

	now, lastSweep time.Time
	nowNs          int64        // now in Unix nanoseconds (math.MinInt64 before the first packet)
	clock          captureClock // the frames' times, for an engine fed by Packet (Run keeps its own)
	// clockNs is the latest capture time of the whole capture set at the packet being processed: what a
	// connection's idle time counts from (conn.touchNs). It is the same for any number of engines, where nowNs
	// is an engine's own, so expiry, and with it the order of records, does not depend on how the flows were
	// shared out when the capture's clock steps back.
	clockNs int64
	seq     uint64
	stats   *statsAgg
	// batch holds finished records not yet sent; those from batchStart on are the current packet's or sweep's.
	batch      []result.Record
	batchStart int
	// out, set for an engine on a worker lane, takes note that batch[start:end] was finished at key; the lane
	// hands the whole batch to the merger when its work batch is done. nil: records go to the sink.
	out func(key batchKey, start, end int)
	// full takes batch when it is full (Options.recordSlice): on a worker lane, out has noted the records
	// before start, those from start on are the current packet's or sweep's so far; inline, it is
	// Engine.stash. It returns an empty batch to go on with, so that a sweep finishing thousands of records
	// never copies them to grow one slice. nil: batch grows (an engine outside Run, and at the end).
	full func(batch []result.Record, start int) []result.Record
	// inline holds, for an engine in the reading goroutine (Engine.stash), the full record slices of the
	// current packet or sweep, written in order by writeRecords.
	inline inlineRecords
	facts  engineFacts
	err    error
	// tunnel is the encapsulation of the packet being processed, for the DNS exchange it starts to copy; nil
	// when the packet was not tunnelled.
	tunnel *decode.Tunnel
	// prepared is the ClientHello the reading goroutine parsed from the packet being processed, if it holds
	// one whole (prepare.go); nil otherwise.
	prepared *preparedHello
	// preparedDNS is the DNS message the reading goroutine parsed from the datagram being processed, if it
	// is one (prepare.go); nil otherwise.
	preparedDNS *dnsmsg.Message
	// checksum is 1 + the checksum status the reading goroutine found for the packet being processed, or 0
	// (checksum.go).
	checksum uint8
}

// engineFacts counts what the engine saw, for the capture facts and quality section.
type engineFacts struct {
	packets, bytes uint64
	first, last    time.Time
	truncated      uint64
	undecodable    uint64
	undecodableDNS uint64
	evicted        uint64
	duplicates     uint64
	panics         uint64
	dnsFalseCounts uint64
	overlaps       uint64
	gapsOverCap    uint64
	timeJumps      uint64
	connections    int
	dnsExchanges   int
	oneSided       int
	midstream      int
	icmp           icmpCounts
	quality        qualityFacts // checksums and capture loss (checksum.go, capture_loss.go)
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
	f.dnsFalseCounts += o.dnsFalseCounts
	f.overlaps += o.overlaps
	f.gapsOverCap += o.gapsOverCap
	f.icmp.add(o.icmp)
	f.quality.add(&o.quality)
}

// New returns an engine that reports to sink.
func New(opts Options, sink result.Sink) (*Engine, error) {
	if opts.Matcher == nil {
		return nil, errors.New("analyze: no rules matcher")
	}
	opts.setDefaults()
	e := &Engine{
		opts:       opts,
		nowNs:      math.MinInt64,
		sink:       sink,
		conns:      make(map[flowKey]*conn),
		byTuple:    make(map[flowKey]*conn),
		pool:       bufPool{maxFree: 256},
		serverPool: bufPool{maxFree: 256},
		names:      newDNSCache(opts.MaxDNSNames, opts.MaxDNSBytes),
		dns:        newDNSState(opts.MaxDNSNames),
		stats:      newStatsAgg(opts.Matcher.Table(), opts.FailOn),
		reached:    tcpReached{limit: opts.MaxDNSNames},
	}
	e.tls = tlsEngine{verifier: opts.Verifier}
	e.halfOpen.timeout = opts.HalfOpenTimeout
	e.active.timeout = opts.IdleTimeout
	e.closing.timeout = opts.ClosedLinger
	e.udps.timeout = opts.UDPTimeout
	return e, nil
}

// Matcher returns the rules matcher the engine judges with.
func (e *Engine) Matcher() *rules.Matcher { return e.opts.Matcher }

// Packet feeds one decoded packet of frame f, for a caller that decodes frames itself (Run does all this for
// a Source). It returns the first error the sink returned, after which the engine stops reporting. An engine
// fed this way counts the frame and sweeps expired connections by itself, at most once a second of capture
// time.
func (e *Engine) Packet(f *capture.Frame, p *decode.Packet) error {
	e.seq++
	e.count(f, p)
	e.sweepIfDue(f.Timestamp)
	e.packet(e.seq, f.Timestamp.UnixNano(), f, p)
	e.flush(batchKey{})
	return e.err
}

// Tracked reports how many connections the engine holds now, for a flow-table gauge.
func (e *Engine) Tracked() int { return len(e.conns) }

// packet processes one packet numbered seq in the capture set, of a flow this engine owns; ns is its
// timestamp in Unix nanoseconds.
func (e *Engine) packet(seq uint64, ns int64, f *capture.Frame, p *decode.Packet) {
	ref := frameRef{file: f.File, number: f.Number, seq: seq}
	ts := f.Timestamp
	e.clockNs = max(e.clockNs, e.nowNs) // under Run, the lane has set it from the run's clock already
	if p.Tunnel.Kind != decode.TunnelNone {
		e.tunnel = &p.Tunnel
	}
	switch p.IPProto {
	case protoTCP:
		e.tcp(p, ref, ts, ns, f.WireLen)
	case protoUDP:
		e.udp(p, ref, ts, f.WireLen)
	case protoICMPv4, protoICMPv6:
		if isRejection(p) {
			e.icmp(p, ref, ts, f.WireLen)
		}
	}
	e.tunnel = nil
}

// dnsCopy reads a copy of a DNS packet numbered seq that another engine owns: this engine only learns names
// from it.
func (e *Engine) dnsCopy(seq uint64, f *capture.Frame, p *decode.Packet) {
	e.learnDNS(p, frameRef{file: f.File, number: f.Number, seq: seq})
}

func (e *Engine) count(f *capture.Frame, p *decode.Packet) {
	e.facts.packets++
	e.facts.bytes += uint64(f.WireLen)
	if e.facts.first.IsZero() || f.Timestamp.Before(e.facts.first) {
		e.facts.first = f.Timestamp
	}
	if f.Timestamp.After(e.facts.last) {
		e.facts.last = f.Timestamp
	}
	if p != nil && p.Truncated {
		e.facts.truncated++
	}
}

// sweepIfDue moves capture time by a frame at ts (a lone frame far ahead does not move it) and sweeps when
// it has moved a second or more since the last sweep.
func (e *Engine) sweepIfDue(ts time.Time) {
	e.clock.observe(ts, ts.UnixNano())
	e.advanceTo(e.clock.now, e.clock.nowNs)
	if e.now.Sub(e.lastSweep) >= time.Second {
		e.sweep(e.now)
	}
}

// advanceTo moves capture time forward to ts (ns in Unix nanoseconds); time never goes back. Only the clock
// moves it (sweepIfDue here, the driver's ticks under Run), never a packet by itself: a frame far ahead of the
// others must not expire what is open (clock.go).
func (e *Engine) advanceTo(ts time.Time, ns int64) {
	if ns > e.nowNs {
		e.now, e.nowNs = ts, ns
	}
}

// sweep reports what has expired by capture time now.
func (e *Engine) sweep(now time.Time) {
	e.advanceTo(now, now.UnixNano())
	e.lastSweep = e.now
	for _, l := range []*lruList{&e.closing, &e.halfOpen, &e.udps, &e.active} {
		for l.head != nil && e.now.UnixNano()-l.head.touchNs >= int64(l.timeout) {
			e.finish(l.head, "")
		}
	}
	e.expireDNS(e.now, false)
	if e.opts.HoldDNSFailures > 0 {
		e.releaseHeld(e.now.Add(-e.opts.HoldDNSFailures))
		e.releaseQUICHeld(e.now.Add(-max(e.opts.HoldDNSFailures, quicFallbackWindow)), e.reached.within)
	}
}

// Finish reports every connection and exchange still open, then the summary. facts carries what the caller
// knows of the input (files, link types, warnings, interface drops); the engine adds its own counts.
func (e *Engine) Finish(facts result.CaptureFacts) error {
	e.flush(batchKey{})
	e.clock.end()
	e.facts.timeJumps = e.clock.jumps
	if err := writeEnd([]*Engine{e}, e.sink); err != nil && e.err == nil {
		e.err = err
	}
	if e.err != nil {
		return e.err
	}
	s := e.summary(facts)
	if err := e.sink.Summary(&s); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// emit counts a finished record in the summary and queues it for the sink. Records finished by one packet or
// one sweep go out together, ordered by where they began, so the output does not depend on the order of the
// engine's internal lists, nor on how many engines share the work.
func (e *Engine) emit(r *result.Record) {
	e.stats.add(r)
	if len(e.batch) >= e.opts.recordSlice && len(e.batch) == cap(e.batch) && e.full != nil {
		e.batch, e.batchStart = e.full(e.batch, e.batchStart), 0
	}
	e.batch = append(prefault.Grow(e.batch, 1), *r) // a growing slice is mapped in at once, not a fault a page
}

// maxBatchRecords is how many records an engine queues in one slice before it starts another (about
// 250 KB): a sweep that finishes thousands of records never copies them to grow one slice.
const maxBatchRecords = 256

// flush sends the queued records, in order of their first frame, to the sink or, under Analyze with several
// engines, to the merger with key.
func (e *Engine) flush(key batchKey) {
	if len(e.batch) == e.batchStart {
		return
	}
	if e.out == nil {
		e.writeRecords()
		return
	}
	sortRecords(e.batch[e.batchStart:])
	e.out(key, e.batchStart, len(e.batch))
	e.batchStart = len(e.batch)
}

// sortRecords orders records by their first frame. One packet or sweep mostly finishes one record, or a few
// already in order; records are big, so sorting is skipped when there is nothing to move.
func sortRecords(recs []result.Record) {
	if len(recs) < 2 || slices.IsSortedFunc(recs, byOrder) {
		return
	}
	slices.SortStableFunc(recs, byOrder)
}

func byOrder(a, b result.Record) int { return cmp.Compare(a.Order, b.Order) }

// batchKey orders batches of records across engines: the capture position of the packet (phase 1), the
// sweep before it (phase 0) or a quiet sweep after it (phase 2) that finished them.
type batchKey struct {
	seq   uint64
	phase uint8
}

func (k batchKey) less(o batchKey) bool {
	return k.seq < o.seq || k.seq == o.seq && k.phase < o.phase
}
