package hostile

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
)

// The engine's hostile inputs: small captures of well-formed packets that make an analysis keep too much,
// misjudge time, or read a name the server never saw. Frames are Ethernet/IPv4 with zero checksums (the
// engine never verifies checksums).

var be = binary.BigEndian

// Addresses the engine cases use: a client, a resolver and servers, all in 198.18.0.0/15.
var (
	Client   = [4]byte{198, 18, 0, 2}
	Resolver = [4]byte{198, 18, 0, 1}
)

// Server is the i-th server address, 198.18.x.y from 198.18.16.0 on.
func Server(i int) [4]byte { return [4]byte{198, 18, byte(16 + i>>8), byte(i)} }

// TCP flags for TCPFrame.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

func ipv4(src, dst [4]byte, proto byte, id, frag uint16, body []byte) []byte {
	f := make([]byte, 14, 14+20+len(body))
	f[12], f[13] = 0x08, 0x00
	ip := make([]byte, 20)
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+len(body)))
	be.PutUint16(ip[4:], id)
	be.PutUint16(ip[6:], frag)
	ip[8], ip[9] = 64, proto
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	return append(append(f, ip...), body...)
}

// UDPFrame is an Ethernet/IPv4/UDP frame.
func UDPFrame(src, dst [4]byte, sport, dport uint16, payload []byte) []byte {
	u := make([]byte, 8, 8+len(payload))
	be.PutUint16(u, sport)
	be.PutUint16(u[2:], dport)
	be.PutUint16(u[4:], uint16(8+len(payload)))
	return ipv4(src, dst, 17, 0, 0, append(u, payload...))
}

// TCPFrame is an Ethernet/IPv4/TCP frame.
func TCPFrame(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	be.PutUint16(h, sport)
	be.PutUint16(h[2:], dport)
	be.PutUint32(h[4:], seq)
	be.PutUint32(h[8:], ack)
	h[12], h[13] = 5<<4, flags
	be.PutUint16(h[14:], 65535)
	return ipv4(src, dst, 6, 0, 0, append(h, payload...))
}

// FragmentFrame is the first fragment (more fragments set) of an IPv4 datagram with the given id, whose other
// fragments never come: a UDP header and 8 bytes.
func FragmentFrame(src, dst [4]byte, id uint16) []byte {
	return ipv4(src, dst, 17, id, 0x2000, make([]byte, 16))
}

// DNSName encodes a name in DNS wire form (uncompressed).
func DNSName(name string) []byte {
	var b []byte
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			if i > start {
				b = append(b, byte(i-start))
				b = append(b, name[start:i]...)
			}
			start = i + 1
		}
	}
	return append(b, 0)
}

// DNSQuery is a query for name (type A).
func DNSQuery(id uint16, name string) []byte {
	m := make([]byte, 12)
	be.PutUint16(m, id)
	m[2] = 0x01
	be.PutUint16(m[4:], 1)
	return append(append(m, DNSName(name)...), 0, 1, 0, 1)
}

// DNSAnswer is a NOERROR answer to a query for name: cnames CNAME records, each to a 245-byte target (a short
// label before a 240-byte name written once and pointed to), then one A record per address. declared, when
// not 0, replaces the answer count in the header (a count the message does not hold).
func DNSAnswer(id uint16, name string, cnames int, addrs [][4]byte, declared int) []byte {
	m := make([]byte, 12)
	be.PutUint16(m, id)
	m[2], m[3] = 0x81, 0x80
	be.PutUint16(m[4:], 1)
	n := cnames + len(addrs)
	if declared != 0 {
		n = declared
	}
	be.PutUint16(m[6:], uint16(n))
	m = append(append(m, DNSName(name)...), 0, 1, 0, 1)
	long := -1 // offset of the long base name, written in the first CNAME's target
	for j := 0; j < cnames; j++ {
		m = append(m, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60)
		label := fmt.Sprintf("c%d", j)
		var rdata []byte
		rdata = append(rdata, byte(len(label)))
		rdata = append(rdata, label...)
		if long < 0 {
			long = len(m) + 2 + len(rdata)
			rdata = append(rdata, DNSName(longName)...)
		} else {
			rdata = append(rdata, 0xc0|byte(long>>8), byte(long))
		}
		m = append(m, byte(len(rdata)>>8), byte(len(rdata)))
		m = append(m, rdata...)
	}
	for _, a := range addrs {
		m = append(m, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		m = append(m, a[:]...)
	}
	return m
}

// longName is 240 bytes of labels: the tail of every CNAME target of DNSAnswer.
var longName = func() string {
	s := ""
	for len(s) < 236 {
		s += "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi."
	}
	return s[:236] + "test"
}()

// pcapWriter writes a gzip pcap of frames a millisecond apart unless told otherwise.
type pcapWriter struct {
	z   *gzip.Writer
	b   *bufio.Writer
	sec uint32
	us  uint32
	err error
}

func newPcapWriter(w io.Writer) *pcapWriter {
	z := gzip.NewWriter(w)
	p := &pcapWriter{z: z, b: bufio.NewWriterSize(z, 1<<16), sec: 1700000000}
	_, p.err = p.b.Write(PcapHeader(262144))
	return p
}

// frame writes data after step microseconds.
func (p *pcapWriter) frame(step uint32, data []byte) {
	p.us += step
	p.sec += p.us / 1e6
	p.us %= 1e6
	if p.err == nil {
		_, p.err = p.b.Write(PcapRecord(p.sec, p.us, data))
	}
}

// at writes data at an absolute second.
func (p *pcapWriter) at(sec uint32, data []byte) {
	if p.err == nil {
		_, p.err = p.b.Write(PcapRecord(sec, 0, data))
	}
}

func (p *pcapWriter) close() error {
	if p.err != nil {
		return p.err
	}
	if err := p.b.Flush(); err != nil {
		return err
	}
	return p.z.Close()
}

// EngineCases are the engine's hostile captures, by name (gzip pcaps).
func EngineCases() []Case {
	return []Case{
		{"dns-cname-bomb.pcap.gz", func(w io.Writer) error { return DNSCNAMEBomb(w, 40, 1200, 2400) }},
		{"far-future-frame.pcap.gz", FarFutureFrame},
		{"fragment-flood.pcap.gz", func(w io.Writer) error { return FragmentFlood(w, 5000) }},
		{"dns-id-reuse.pcap.gz", DNSIDReuse},
		{"unlisted-names.pcap.gz", func(w io.Writer) error { return UnlistedNames(w, 30000) }},
	}
}

// BombAddr is the n-th address of DNSCNAMEBomb's answers: 198.18.16.0 + n (n < 126,976).
func BombAddr(n int) [4]byte {
	n += 16 << 8
	return [4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)}
}

// DNSCNAMEBomb writes answers DNS answers to Client, each for its own name with cnames CNAMEs and addrs A
// records of its own (answer i gives BombAddr(i*addrs) on), then a SYN to each of the last answer's first 100
// addresses. Before the cache shared CNAME chains, every address kept its own copy of its answer's chain: 40
// answers of 1,200 CNAMEs and 2,400 addresses, a 360 KB file, stood for 28 GB.
func DNSCNAMEBomb(w io.Writer, answers, cnames, addrs int) error {
	p := newPcapWriter(w)
	list := make([][4]byte, addrs)
	for i := 0; i < answers; i++ {
		for a := range list {
			list[a] = BombAddr(i*addrs + a)
		}
		msg := DNSAnswer(uint16(i), fmt.Sprintf("q%d.manage.microsoft.com", i), cnames, list, 0)
		p.frame(1000, UDPFrame(Resolver, Client, 53, uint16(20000+i), msg))
	}
	for a := 0; a < 100; a++ {
		p.frame(1000, TCPFrame(Client, list[a], uint16(40000+a), 443, 1000, 0, SYN, nil))
	}
	return p.close()
}

// FarFutureFrame writes a DNS lookup of enrollment.manage.microsoft.com and a connection to its address whose
// SYN-ACK comes 2 s after the SYN; between them, one frame of another flow is dated 2100. Before the clock
// ignored lone frames, that frame expired the half-open connection: a false blocked.
func FarFutureFrame(w io.Writer) error {
	p := newPcapWriter(w)
	srv := Server(1)
	p.frame(1000, UDPFrame(Client, Resolver, 20000, 53, DNSQuery(7, "enrollment.manage.microsoft.com")))
	p.frame(1000, UDPFrame(Resolver, Client, 53, 20000, DNSAnswer(7, "enrollment.manage.microsoft.com", 0, [][4]byte{srv}, 0)))
	p.frame(1000, TCPFrame(Client, srv, 40000, 443, 1000, 0, SYN, nil))
	p.at(FarFutureSec, UDPFrame(Client, Server(2), 30000, 9999, []byte("x")))
	p.frame(2e6, TCPFrame(srv, Client, 443, 40000, 5000, 1001, SYN|ACK, nil))
	p.frame(1000, TCPFrame(Client, srv, 40000, 443, 1001, 5001, ACK, nil))
	p.frame(1000, TCPFrame(Client, srv, 40000, 443, 1001, 5001, FIN|ACK, nil))
	p.frame(1000, TCPFrame(srv, Client, 443, 40000, 5001, 1002, FIN|ACK, nil))
	return p.close()
}

// FragmentFlood writes n first fragments that never complete (over the decoder's 4,096-datagram cap), then a
// DNS answer and a connection it names.
func FragmentFlood(w io.Writer, n int) error {
	p := newPcapWriter(w)
	for i := 0; i < n; i++ {
		p.frame(10, FragmentFrame(Server(3), Client, uint16(i)))
	}
	srv := Server(4)
	p.frame(1000, UDPFrame(Resolver, Client, 53, 20001, DNSAnswer(9, "enrollment.manage.microsoft.com", 0, [][4]byte{srv}, 0)))
	p.frame(1000, TCPFrame(Client, srv, 40001, 443, 1000, 0, SYN, nil))
	return p.close()
}

// DNSIDReuse writes lookups that reuse one query id on the same ports, each for another name and address, each
// followed by an unanswered SYN to the address. Every SYN must be named by its own lookup.
func DNSIDReuse(w io.Writer) error {
	p := newPcapWriter(w)
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("r%d.manage.microsoft.com", i)
		srv := Server(100 + i)
		p.frame(1000, UDPFrame(Client, Resolver, 20002, 53, DNSQuery(42, name)))
		p.frame(1000, UDPFrame(Resolver, Client, 53, 20002, DNSAnswer(42, name, 0, [][4]byte{srv}, 0)))
		p.frame(1000, UDPFrame(Resolver, Client, 53, 20002, DNSAnswer(42, name, 0, [][4]byte{srv}, 0))) // duplicate
		p.frame(1000, TCPFrame(Client, srv, uint16(41000+i), 443, 1000, 0, SYN, nil))
	}
	return p.close()
}

// UnlistedName is the i-th name UnlistedNames writes: Microsoft names no requirement lists.
func UnlistedName(i int) string { return fmt.Sprintf("u%06d.unlisted.microsoft.com", i) }

// UnlistedNames writes n DNS answers for distinct unlisted names, each followed by an unanswered SYN to the
// address it gave, over several flows (so that workers split them).
func UnlistedNames(w io.Writer, n int) error {
	p := newPcapWriter(w)
	for i := 0; i < n; i++ {
		srv := [4]byte{198, 19, byte(i >> 8), byte(i)}
		port := uint16(20000 + i%1000)
		p.frame(100, UDPFrame(Resolver, Client, 53, port, DNSAnswer(uint16(i), UnlistedName(i), 0, [][4]byte{srv}, 0)))
		p.frame(100, TCPFrame(Client, srv, uint16(30000+i%30000), 443, 1000, 0, SYN, nil))
	}
	return p.close()
}
