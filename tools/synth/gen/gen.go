// Package gen writes synthetic gateway captures for benchmarks and large-scale tests: overlapping TCP
// connections with handshakes and teardowns, downloads carrying most of the packets, TLS ClientHellos (some
// split, some out of order), HTTP requests, DNS lookups (some with CNAME chains, some failing), CONNECT through
// a proxy (200 and 407), resets, unanswered and refused SYNs, over IPv4 and IPv6, tagged or not.
//
// Everything is drawn from one seeded generator, so a seed always gives the same file. While it writes, the
// generator records what it made: the number of records per verdict that an analysis with the intune-2015
// table must give. Those counts come from the generator's own ground truth, never from running intunecap.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config says what to generate. The zero value of each field takes the default named beside it.
type Config struct {
	Size      int64     // stop starting sessions once the file has this many bytes (default 20 MB)
	Seed      int64     // the same seed gives the same file
	Format    string    // "pcap" (microsecond, default) or "pcapng"
	VLAN      bool      // tag every frame with an 802.1Q VLAN id (one per client group)
	IPv6Share float64   // share of clients on IPv6, 0..1
	SYNFlood  int       // if > 0: only this many half-open connections from distinct ports (memory test)
	Mix       string    // "bulk" (default): a gateway's mix with downloads; "conns": many short connections
	Start     time.Time // capture time of the first packet (default 2026-01-05 09:00 UTC)
}

// Expected is the ground truth written beside a capture (FILE.expected.json).
type Expected struct {
	Generator string         `json:"generator"`
	Seed      int64          `json:"seed"`
	Format    string         `json:"format"`
	VLAN      bool           `json:"vlan"`
	IPv6Share float64        `json:"ipv6_share"`
	SYNFlood  int            `json:"syn_flood,omitempty"`
	Mix       string         `json:"mix"`
	Rules     string         `json:"rules"`   // the table the verdicts assume
	Packets   uint64         `json:"packets"` // frames written
	Bytes     int64          `json:"bytes"`   // file size
	Records   int            `json:"records"` // flows + dns
	Flows     int            `json:"flows"`   // TCP connections
	DNS       int            `json:"dns"`     // DNS exchanges
	Verdicts  map[string]int `json:"verdicts"`
	Scenarios map[string]int `json:"scenarios"` // sessions per kind
}

const (
	concurrency      = 48   // sessions in flight at once
	connsConcurrency = 1024 // in the connection-heavy mix: a gateway with thousands of connections open
	clients4         = 240
	clients6         = 60
	maxFrame         = 1600
)

// The mixes of sessions.
const (
	// MixBulk is a gateway's traffic as bytes count it: most bytes are downloads, most packets belong to
	// connections whose name is long known.
	MixBulk = "bulk"
	// MixConns is a gateway's traffic as connections count it: a thousand sessions in flight, most of them
	// short (DNS lookups, TLS sessions of a few KB, resets, unanswered SYNs) beside some downloads, so that a
	// large share of packets open, name or close a connection, among many open connections.
	MixConns = "conns"
)

// Gen is one generation run. It is not safe for concurrent use.
type Gen struct {
	cfg      Config
	rng      *rand.Rand
	names    [4][]label
	kinds    []scenario
	total    int
	maxBulk  int
	block    []byte // bytes that downloads carry
	ports    []uint16
	cache    map[[2]netip.Addr]*label // what each client resolved each address from: the engine's DNS cache
	exp      *Expected
	heap     []*session
	nextID   uint64
	stopping bool
	out      packetWriter
	cw       *countWriter
	buf      [maxFrame]byte
	seg      [maxFrame]byte // a download segment being patched with record headers
	h        hdr
}

// Generate writes a capture to w as cfg says and returns its ground truth.
func Generate(w io.Writer, cfg Config) (*Expected, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := newGen(cfg, bw)
	out, err := newPacketWriter(g.cw, cfg.Format)
	if err != nil {
		return nil, err
	}
	g.out = out
	if cfg.SYNFlood > 0 {
		err = g.flood()
	} else {
		err = g.run()
	}
	if err == nil {
		err = out.flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("write capture: %w", err)
	}
	g.exp.Bytes = g.cw.n
	g.exp.Records = g.exp.Flows + g.exp.DNS
	return g.exp, nil
}

func (c *Config) setDefaults() error {
	if c.Size <= 0 {
		c.Size = 20_000_000
	}
	switch c.Mix {
	case "":
		c.Mix = MixBulk
	case MixBulk, MixConns:
	default:
		return fmt.Errorf("unknown mix %q (want %s or %s)", c.Mix, MixBulk, MixConns)
	}
	switch c.Format {
	case "":
		c.Format = "pcap"
	case "pcap", "pcapng":
	default:
		return fmt.Errorf("unknown format %q (want pcap or pcapng)", c.Format)
	}
	if c.IPv6Share < 0 || c.IPv6Share > 1 {
		return fmt.Errorf("ipv6 share %v is not between 0 and 1", c.IPv6Share)
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	}
	return nil
}

func newGen(cfg Config, w io.Writer) *Gen {
	g := &Gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x1ca9)),
		names: nameTable(),
		kinds: scenarios(cfg.Mix),
		cache: make(map[[2]netip.Addr]*label),
		cw:    &countWriter{w: w},
		exp: &Expected{Generator: "intunecap synth", Seed: cfg.Seed, Format: cfg.Format, VLAN: cfg.VLAN, Mix: cfg.Mix,
			IPv6Share: cfg.IPv6Share, SYNFlood: cfg.SYNFlood, Rules: "intune-2015",
			Verdicts: map[string]int{}, Scenarios: map[string]int{}},
	}
	for _, k := range g.kinds {
		g.total += k.weight
	}
	g.maxBulk = int(min(max(cfg.Size/64, 64<<10), 4<<20))
	if cfg.Mix == MixConns {
		g.maxBulk = 256 << 10 // downloads of 32 to 256 KB beside the many short connections
	}
	g.block = appendRandom(g.rng, nil, 64<<10)
	g.ports = make([]uint16, clients4+clients6)
	for i := range g.ports {
		g.ports[i] = uint16(32768 + g.rng.IntN(28000))
	}
	for _, v := range []string{"allowed", "blocked", "reset", "port-not-allowed", "unlisted", "other"} {
		g.exp.Verdicts[v] = 0
	}
	return g
}

// run keeps concurrency sessions in flight until the file is big enough, then lets them finish.
func (g *Gen) run() error {
	inFlight := concurrency
	if g.cfg.Mix == MixConns {
		inFlight = connsConcurrency
	}
	for i := 0; i < inFlight; i++ {
		g.push(g.newSession(g.cfg.Start.Add(time.Duration(g.rng.IntN(50_000)) * time.Microsecond)))
	}
	for len(g.heap) > 0 {
		s := g.heap[0]
		done, err := g.emit(s)
		if err != nil {
			return err
		}
		if g.cw.n >= g.cfg.Size {
			g.stopping = true
		}
		if !done {
			g.down(0)
			continue
		}
		g.pop()
		if !g.stopping {
			g.push(g.newSession(s.at.Add(time.Duration(g.rng.IntN(3000)) * time.Microsecond)))
		}
	}
	return nil
}

// newSession draws a session starting at t.
func (g *Gen) newSession(t time.Time) *session {
	ci, v6 := g.rng.IntN(clients4), false
	if g.cfg.IPv6Share > 0 && g.rng.Float64() < g.cfg.IPv6Share {
		ci, v6 = clients4+g.rng.IntN(clients6), true
	}
	g.nextID++
	s := &session{id: g.nextID, at: t, client: clientAddr(ci, v6), resolver: resolver4,
		cseq: g.rng.Uint32(), sseq: g.rng.Uint32(), mss: 1460, dnsID: uint16(g.rng.Uint32()),
		gap: time.Duration(60+g.rng.IntN(600)) * time.Microsecond}
	if v6 {
		s.client, s.resolver, s.mss = clientAddr(ci-clients4, true), resolver6, 1440
	}
	s.clientMAC = [6]byte{0x02, 0, 0, 0, byte(ci >> 8), byte(ci)}
	if g.cfg.VLAN {
		s.vlan = uint16(100 + ci%4)
	}
	s.dnsPort = g.nextPort(ci)
	s.cport = g.nextPort(ci)
	sc := &script{s: s, rtt: time.Duration(2000+g.rng.IntN(40000)) * time.Microsecond}
	k := g.drawScenario()
	s.scenario = k.name
	k.build(g, sc)
	g.exp.Scenarios[k.name]++
	return s
}

func (g *Gen) drawScenario() *scenario {
	r := g.rng.IntN(g.total)
	for i := range g.kinds {
		if r < g.kinds[i].weight {
			return &g.kinds[i]
		}
		r -= g.kinds[i].weight
	}
	return &g.kinds[len(g.kinds)-1]
}

// nextPort hands out a client's ephemeral ports in turn, as Linux and Windows do, so that no 5-tuple is reused
// while an earlier connection on it may still be open.
func (g *Gen) nextPort(ci int) uint16 {
	p := g.ports[ci]
	g.ports[ci]++
	if g.ports[ci] > 60999 {
		g.ports[ci] = 32768
	}
	return p
}

// countWriter counts the bytes of the file.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// packetWriter is pcapgo's pcap or pcapng writer.
type packetWriter interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
	flush() error
}

type pcapWriter struct{ *pcapgo.Writer }

func (pcapWriter) flush() error { return nil }

type ngWriter struct{ *pcapgo.NgWriter }

func (w ngWriter) flush() error { return w.Flush() }

func newPacketWriter(w io.Writer, format string) (packetWriter, error) {
	if format == "pcapng" {
		ng, err := pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
		if err != nil {
			return nil, err
		}
		return ngWriter{ng}, nil
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return pcapWriter{pw}, nil
}

// write puts one frame of the current header g.h into the file at t.
func (g *Gen) write(t time.Time) error {
	n := build(g.buf[:], &g.h)
	g.exp.Packets++
	return g.out.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: n, Length: n}, g.buf[:n])
}
