package gen

import (
	"net/netip"
	"time"
)

// dir says who sends a step's packet.
type dir uint8

const (
	toServer dir = iota
	toClient
	toResolver
	fromResolver
)

// hook marks the packets at which the ground truth is written down.
type hook uint8

const (
	hookNone      hook = iota
	hookConn           // first packet of a TCP connection: its name, and so its verdict, is fixed now
	hookDNSAnswer      // a resolver's answer: the client now knows the address, the exchange is complete
	hookDNSLost        // a query that will get no answer
)

// step is one packet of a session's script, or with bulk > 0 a whole download expanded packet by packet.
// Sequence numbers are not in the script: the session keeps each side's next sequence number, and a step
// sends at base+off and then moves the base by adv. That way a download cut short (the file reached its
// size) still ends with consistent numbers.
type step struct {
	delay   time.Duration
	dir     dir
	flags   uint8
	payload []byte
	off     uint32
	adv     uint32
	synOpts bool
	bulk    int
	tls     bool // the download is TLS application data records
	hook    hook
}

// session is one client activity: a DNS lookup and a TCP connection, or a lookup alone.
type session struct {
	id    uint64
	at    time.Time // time of the next packet
	steps []step
	i     int
	sent  int // bytes of the current bulk step sent
	segs  int // segments sent since the client's last ACK

	client, server, resolver netip.Addr
	cport, sport, dnsPort    uint16
	dnsID                    uint16
	clientMAC                [6]byte
	vlan                     uint16
	cseq, sseq               uint32 // next sequence number of each side
	ipID                     [2]uint16
	mss                      int
	gap                      time.Duration // between segments of a download

	// Ground truth.
	scenario   string
	name       *label // the name in the payload (SNI, Host, CONNECT target), nil if none
	port       uint16 // the port the rules check
	proxied    bool
	outcome    string // what the network did: allowed, blocked or reset
	dnsLabel   *label // the name looked up
	dnsOutcome string
}

// script appends steps to a session.
type script struct {
	s   *session
	rtt time.Duration
}

func (sc *script) add(st step) { sc.s.steps = append(sc.s.steps, st) }

// lookup adds a DNS query and, unless lost, its answer.
func (sc *script) lookup(l *label, outcome string, lost bool, wait time.Duration) {
	s := sc.s
	s.dnsLabel, s.dnsOutcome = l, outcome
	if lost {
		sc.add(step{delay: wait, dir: toResolver, hook: hookDNSLost})
		sc.add(step{delay: time.Second, dir: toResolver}) // the stub resolver's retry, same id
		return
	}
	sc.add(step{delay: wait, dir: toResolver})
	sc.add(step{delay: sc.rtt/2 + 300*time.Microsecond, dir: fromResolver, hook: hookDNSAnswer})
}

// syn adds the client's SYN (again, for a retransmission: first is false).
func (sc *script) syn(delay time.Duration, first bool) {
	h := hookNone
	if first {
		h = hookConn
	}
	sc.add(step{delay: delay, dir: toServer, flags: syn, off: ^uint32(0), synOpts: true, hook: h})
}

func (sc *script) handshake(delay time.Duration) {
	sc.syn(delay, true)
	sc.add(step{delay: sc.rtt, dir: toClient, flags: syn | ack, off: ^uint32(0), synOpts: true})
	sc.add(step{delay: 80 * time.Microsecond, dir: toServer, flags: ack})
}

// client sends p (shorter than an MSS) from the client.
func (sc *script) client(p []byte, delay time.Duration) {
	sc.add(step{delay: delay, dir: toServer, flags: psh | ack, payload: p, adv: uint32(len(p))})
}

// server sends p from the server, in segments of at most chunk bytes (below both MSSs).
func (sc *script) server(p []byte, delay time.Duration) {
	const chunk = 1400
	for len(p) > chunk {
		sc.add(step{delay: delay, dir: toClient, flags: ack, payload: p[:chunk], adv: chunk})
		p, delay = p[chunk:], 30*time.Microsecond
	}
	sc.add(step{delay: delay, dir: toClient, flags: psh | ack, payload: p, adv: uint32(len(p))})
}

// splitClient sends p in two segments cut at k; reorder sends the second one first.
func (sc *script) splitClient(p []byte, k int, reorder bool) {
	a, b := p[:k], p[k:]
	if !reorder {
		sc.add(step{delay: 100 * time.Microsecond, dir: toServer, flags: ack, payload: a, adv: uint32(len(a))})
		sc.add(step{delay: 50 * time.Microsecond, dir: toServer, flags: psh | ack, payload: b, adv: uint32(len(b))})
		return
	}
	sc.add(step{delay: 100 * time.Microsecond, dir: toServer, flags: psh | ack, payload: b, off: uint32(len(a))})
	sc.add(step{delay: 50 * time.Microsecond, dir: toServer, flags: ack, payload: a, adv: uint32(len(p))})
}

func (sc *script) ack(toC bool, delay time.Duration) {
	d := toServer
	if toC {
		d = toClient
	}
	sc.add(step{delay: delay, dir: d, flags: ack})
}

// download adds n bytes from the server in MSS-sized segments, the client acknowledging every second one.
// A TLS download carries application data records.
func (sc *script) download(n int, tls bool) {
	if tls {
		n = tlsSize(n)
	}
	if n > 0 {
		sc.add(step{delay: sc.rtt / 2, dir: toClient, flags: ack, bulk: n, tls: tls})
	}
}

// closeByClient is the usual teardown: FIN, FIN, ACK.
func (sc *script) closeByClient(delay time.Duration) {
	sc.add(step{delay: delay, dir: toServer, flags: fin | ack, adv: 1})
	sc.add(step{delay: sc.rtt, dir: toClient, flags: fin | ack, adv: 1})
	sc.add(step{delay: 60 * time.Microsecond, dir: toServer, flags: ack})
}

// closeByServer: the server closes first (a proxy after its 407).
func (sc *script) closeByServer(delay time.Duration) {
	sc.add(step{delay: delay, dir: toClient, flags: fin | ack, adv: 1})
	sc.add(step{delay: 200 * time.Microsecond, dir: toServer, flags: fin | ack, adv: 1})
	sc.add(step{delay: sc.rtt, dir: toClient, flags: ack})
}
