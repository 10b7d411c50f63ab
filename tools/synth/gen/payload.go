package gen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// clientHello builds a TLS 1.3 ClientHello record for sni, shaped like a browser's: GREASE-free but with the
// usual extensions and padded to 512 bytes of handshake, so split points fall inside and outside the SNI.
func clientHello(rng *rand.Rand, sni string) []byte {
	b := make([]byte, 0, 600)
	b = append(b, 0x16, 0x03, 0x01, 0, 0)    // record header, length patched below
	b = append(b, 0x01, 0, 0, 0, 0x03, 0x03) // handshake header, legacy version
	b = appendRandom(rng, b, 32)
	b = append(b, 32)
	b = appendRandom(rng, b, 32)
	suites := []byte{0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30,
		0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35}
	b = binary.BigEndian.AppendUint16(b, uint16(len(suites)))
	b = append(b, suites...)
	b = append(b, 1, 0) // compression: null
	extStart := len(b)
	b = append(b, 0, 0)
	b = appendExt(b, 0x0000, sniExt(sni))
	b = appendExt(b, 0x0017, nil)
	b = appendExt(b, 0xff01, []byte{0})
	b = appendExt(b, 0x000a, []byte{0, 6, 0, 0x1d, 0, 0x17, 0, 0x18})
	b = appendExt(b, 0x000b, []byte{1, 0})
	b = appendExt(b, 0x0023, nil)
	b = appendExt(b, 0x0010, []byte{0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'})
	b = appendExt(b, 0x000d, []byte{0, 8, 4, 3, 8, 4, 4, 1, 5, 1})
	share := []byte{0, 36, 0, 0x1d, 0, 32}
	share = appendRandom(rng, share, 32)
	b = appendExt(b, 0x0033, share)
	b = appendExt(b, 0x002d, []byte{1, 1})
	b = appendExt(b, 0x002b, []byte{4, 3, 4, 3, 3})
	if pad := 512 - (len(b) - 5) - 4; pad > 0 {
		b = appendExt(b, 0x0015, make([]byte, pad))
	}
	binary.BigEndian.PutUint16(b[extStart:], uint16(len(b)-extStart-2))
	hs := len(b) - 9
	b[6], b[7], b[8] = byte(hs>>16), byte(hs>>8), byte(hs)
	binary.BigEndian.PutUint16(b[3:], uint16(len(b)-5))
	return b
}

func sniExt(name string) []byte {
	e := binary.BigEndian.AppendUint16(nil, uint16(len(name)+3))
	e = append(e, 0)
	e = binary.BigEndian.AppendUint16(e, uint16(len(name)))
	return append(e, name...)
}

func appendExt(b []byte, typ uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func appendRandom(rng *rand.Rand, b []byte, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, byte(rng.Uint32()))
	}
	return b
}

// serverFlight is what a TLS 1.3 server sends first: ServerHello, ChangeCipherSpec, then n bytes of
// encrypted handshake in one application data record.
func serverFlight(rng *rand.Rand, n int) []byte {
	hs := []byte{0x02, 0, 0, 0, 0x03, 0x03}
	hs = appendRandom(rng, hs, 32)
	hs = append(hs, 32)
	hs = appendRandom(rng, hs, 32)
	hs = append(hs, 0x13, 0x01, 0)
	ext := []byte{0x00, 0x2b, 0, 2, 3, 4, 0x00, 0x33, 0, 36, 0, 0x1d, 0, 32}
	ext = appendRandom(rng, ext, 32)
	hs = binary.BigEndian.AppendUint16(hs, uint16(len(ext)))
	hs = append(hs, ext...)
	hs[1], hs[2], hs[3] = 0, byte((len(hs)-4)>>8), byte(len(hs)-4)
	b := appendRecord(nil, 0x16, hs)
	b = appendRecord(b, 0x14, []byte{1})
	return appendRecord(b, 0x17, appendRandom(rng, nil, n))
}

func appendRecord(b []byte, typ byte, body []byte) []byte {
	b = append(b, typ, 0x03, 0x03, byte(len(body)>>8), byte(len(body)))
	return append(b, body...)
}

// tlsRecord is the size of a full application data record of a download: 16 KiB of data, the content type
// and the AEAD tag, after a 5-byte header.
const tlsRecord = 5 + 16384 + 17

// tlsHeaders writes, into seg (bytes [at, at+len(seg)) of a download of total bytes), the record headers that
// fall inside it, so that a download reads as a sequence of TLS application data records.
func tlsHeaders(seg []byte, at, total int) {
	for k := at / tlsRecord; k*tlsRecord < at+len(seg); k++ {
		start := k * tlsRecord
		body := min(tlsRecord, total-start) - 5
		hdr := [5]byte{0x17, 0x03, 0x03, byte(body >> 8), byte(body)}
		for i := 0; i < 5; i++ {
			if p := start + i - at; p >= 0 && p < len(seg) {
				seg[p] = hdr[i]
			}
		}
	}
}

// tlsSize avoids a download whose last record would be too short to hold its own header.
func tlsSize(n int) int {
	if r := n % tlsRecord; r > 0 && r < 6 {
		n += 6
	}
	return n
}

func httpGet(host string) []byte {
	return fmt.Appendf(nil, "GET /download/%s/package.bin HTTP/1.1\r\nHost: %s\r\nUser-Agent: Microsoft-Delivery-Optimization/10.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n", host, host)
}

func httpOK(length int) []byte {
	return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nServer: synth\r\n\r\n", length)
}

func connectRequest(host string, port uint16) []byte {
	return fmt.Appendf(nil, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: Windows-Update-Agent\r\nProxy-Connection: keep-alive\r\n\r\n", host, port, host, port)
}

var (
	connectOK   = []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	connect407  = []byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	errNameLong = fmt.Errorf("dns name too long")
)

// dnsQuery builds a recursive query for name.
func dnsQuery(id uint16, name string, v6 bool) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := question(&b, name, v6); err != nil {
		return nil, err
	}
	return b.Finish()
}

// dnsAnswer builds the resolver's answer: NXDOMAIN when nx, else the CNAME chain then addr.
func dnsAnswer(id uint16, name string, v6 bool, cnames []string, addr netip.Addr, nx bool) ([]byte, error) {
	h := dnsmessage.Header{ID: id, Response: true, RecursionDesired: true, RecursionAvailable: true}
	if nx {
		h.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), h)
	b.EnableCompression()
	if err := question(&b, name, v6); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	owner := name
	for _, c := range cnames {
		rh, err := resHeader(owner, dnsmessage.TypeCNAME)
		if err != nil {
			return nil, err
		}
		target, err := dnsmessage.NewName(c + ".")
		if err != nil {
			return nil, err
		}
		if !nx {
			if err := b.CNAMEResource(rh, dnsmessage.CNAMEResource{CNAME: target}); err != nil {
				return nil, err
			}
		}
		owner = c
	}
	if !nx {
		if err := addrResource(&b, owner, addr); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

func question(b *dnsmessage.Builder, name string, v6 bool) error {
	n, err := dnsmessage.NewName(name + ".")
	if err != nil {
		return errNameLong
	}
	typ := dnsmessage.TypeA
	if v6 {
		typ = dnsmessage.TypeAAAA
	}
	if err := b.StartQuestions(); err != nil {
		return err
	}
	return b.Question(dnsmessage.Question{Name: n, Type: typ, Class: dnsmessage.ClassINET})
}

func resHeader(owner string, typ dnsmessage.Type) (dnsmessage.ResourceHeader, error) {
	n, err := dnsmessage.NewName(owner + ".")
	return dnsmessage.ResourceHeader{Name: n, Type: typ, Class: dnsmessage.ClassINET, TTL: 300}, err
}

func addrResource(b *dnsmessage.Builder, owner string, a netip.Addr) error {
	if a.Is4() {
		rh, err := resHeader(owner, dnsmessage.TypeA)
		if err != nil {
			return err
		}
		return b.AResource(rh, dnsmessage.AResource{A: a.As4()})
	}
	rh, err := resHeader(owner, dnsmessage.TypeAAAA)
	if err != nil {
		return err
	}
	return b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
}
