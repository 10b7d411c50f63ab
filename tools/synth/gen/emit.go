package gen

import (
	"net/netip"
	"time"
)

var gatewayMAC = [6]byte{0x02, 0, 0, 0, 0xff, 0xfe}

// emit writes the session's next packet and reports whether the session is over.
func (g *Gen) emit(s *session) (bool, error) {
	st := &s.steps[s.i]
	if st.bulk > 0 {
		return g.emitBulk(s, st)
	}
	if err := g.packet(s, st, st.payload); err != nil {
		return false, err
	}
	if st.dir == toServer {
		s.cseq += st.adv
	} else if st.dir == toClient {
		s.sseq += st.adv
	}
	return g.advance(s), nil
}

// advance moves to the next step and its time.
func (g *Gen) advance(s *session) bool {
	s.i++
	if s.i == len(s.steps) {
		return true
	}
	s.at = s.at.Add(s.steps[s.i].delay)
	return false
}

// emitBulk sends the next packet of a download: a data segment, or the client's ACK after every second
// segment and after the last. Once the file is big enough, a download ends at its next ACK.
func (g *Gen) emitBulk(s *session, st *step) (bool, error) {
	if s.segs == 2 || (s.segs > 0 && (s.sent >= st.bulk || g.stopping)) {
		if err := g.packet(s, &step{dir: toServer, flags: ack}, nil); err != nil {
			return false, err
		}
		s.segs = 0
		if s.sent >= st.bulk || g.stopping {
			s.sent = 0
			return g.advance(s), nil
		}
		s.at = s.at.Add(s.gap)
		return false, nil
	}
	n := min(s.mss, st.bulk-s.sent)
	off := int(s.sseq) & (len(g.block) - 2048)
	flags := uint8(ack)
	if s.sent+n == st.bulk {
		flags |= psh
	}
	data := g.block[off : off+n]
	if st.tls {
		data = g.seg[:n]
		copy(data, g.block[off:])
		tlsHeaders(data, s.sent, st.bulk)
	}
	if err := g.packet(s, &step{dir: toClient, flags: flags}, data); err != nil {
		return false, err
	}
	s.sseq += uint32(n)
	s.sent += n
	s.segs++
	if s.segs == 2 || s.sent >= st.bulk {
		s.at = s.at.Add(40 * time.Microsecond)
	} else {
		s.at = s.at.Add(s.gap)
	}
	return false, nil
}

// packet fills g.h for one packet of s and writes it, then notes the ground truth its step carries.
func (g *Gen) packet(s *session, st *step, payload []byte) error {
	h := &g.h
	*h = hdr{flags: st.flags, payload: payload, synOpts: st.synOpts, vlan: s.vlan, window: 0x01f6}
	fromClient := st.dir == toServer || st.dir == toResolver
	if fromClient {
		h.src, h.srcMAC, h.dstMAC, h.ttl = s.client, s.clientMAC, gatewayMAC, 128
		s.ipID[0]++
		h.ipID = s.ipID[0]
	} else {
		h.dst, h.srcMAC, h.dstMAC, h.ttl = s.client, gatewayMAC, s.clientMAC, 52
		s.ipID[1]++
		h.ipID = s.ipID[1]
	}
	switch st.dir {
	case toServer:
		h.dst, h.sport, h.dport = s.server, s.cport, s.sport
		h.proto, h.seq, h.ack = protoTCP, s.cseq+st.off, s.sseq
	case toClient:
		h.src, h.sport, h.dport = s.server, s.sport, s.cport
		h.proto, h.seq, h.ack = protoTCP, s.sseq+st.off, s.cseq
	case toResolver, fromResolver:
		return g.dnsPacket(s, st, fromClient)
	}
	if st.flags&ack == 0 {
		h.ack = 0
	}
	if st.flags&rst != 0 && st.flags&ack != 0 && !s.synAcked() {
		h.seq = 0 // a reset answering a SYN
	}
	if st.hook == hookConn {
		g.noteConn(s)
	}
	return g.write(s.at)
}

// synAcked reports whether the server sent its SYN-ACK, i.e. whether a step before this one did.
func (s *session) synAcked() bool {
	for i := 0; i < s.i; i++ {
		if s.steps[i].flags == syn|ack {
			return true
		}
	}
	return false
}

func (g *Gen) dnsPacket(s *session, st *step, query bool) error {
	h := &g.h
	h.proto = protoUDP
	l := s.dnsLabel
	v6 := s.client.Is6()
	var err error
	if query {
		h.dst, h.sport, h.dport = s.resolver, s.dnsPort, 53
		h.payload, err = dnsQuery(s.dnsID, l.name, v6)
	} else {
		h.src, h.sport, h.dport = s.resolver, 53, s.dnsPort
		h.payload, err = dnsAnswer(s.dnsID, l.name, v6, l.cname, serverAddr(l, v6), s.dnsOutcome != "allowed")
	}
	if err != nil {
		return err
	}
	switch st.hook {
	case hookDNSAnswer:
		if s.dnsOutcome == "allowed" {
			g.cache[[2]netip.Addr{s.client, serverAddr(l, v6)}] = l
		}
		g.noteDNS(s)
	case hookDNSLost:
		g.noteDNS(s)
	}
	return g.write(s.at)
}

// noteConn writes down a connection's verdict at its first packet: its name is the one in its payload, or
// (not through a proxy) the one this client last resolved the server's address from.
func (g *Gen) noteConn(s *session) {
	l := s.name
	if l == nil && !s.proxied {
		l = g.cache[[2]netip.Addr{s.client, s.server}]
	}
	g.exp.Verdicts[judge(l, s.port, true, s.outcome)]++
	g.exp.Flows++
}

func (g *Gen) noteDNS(s *session) {
	g.exp.Verdicts[judge(s.dnsLabel, 0, false, s.dnsOutcome)]++
	g.exp.DNS++
}

// The session heap orders sessions by the time of their next packet, then by id, so ties are deterministic.
func (g *Gen) less(i, j int) bool {
	a, b := g.heap[i], g.heap[j]
	if c := a.at.Compare(b.at); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

func (g *Gen) push(s *session) {
	g.heap = append(g.heap, s)
	i := len(g.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !g.less(i, p) {
			break
		}
		g.heap[i], g.heap[p] = g.heap[p], g.heap[i]
		i = p
	}
}

func (g *Gen) pop() {
	last := len(g.heap) - 1
	g.heap[0] = g.heap[last]
	g.heap[last] = nil
	g.heap = g.heap[:last]
	g.down(0)
}

func (g *Gen) down(i int) {
	for {
		m, l := i, 2*i+1
		if l < len(g.heap) && g.less(l, m) {
			m = l
		}
		if r := l + 1; r < len(g.heap) && g.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		g.heap[i], g.heap[m] = g.heap[m], g.heap[i]
		i = m
	}
}
