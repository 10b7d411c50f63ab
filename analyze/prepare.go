package analyze

import (
	"slices"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/analyze/dnsmsg"
	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/analyze/tlshello"
)

// On a worker lane, the reading goroutine parses a ClientHello that a TCP segment carries whole, with its
// fingerprints, and the DNS message of a datagram to or from port 53, while the engine's goroutine works on
// earlier packets: on connection-heavy traffic the engine's goroutine is the one that sets the pace, and the
// reading goroutine has time to spare. The engine takes a prepared hello only when the client's stream is
// exactly that segment's payload (readHello), and a prepared message only for the datagram it was parsed from
// (dnsOverUDP), so the bytes parsed are the bytes it would parse, by the same function; otherwise it parses
// them itself.

// preparedHello is what tlshello.Parse and the fingerprints said of one segment's payload.
type preparedHello struct {
	size     int // payload bytes parsed
	sni      string
	ech      bool
	ja4, ja3 string
	alpn     []string
}

// looksLikeClientHello reports whether a payload starts like a TLS handshake record holding a ClientHello
// (content type 22, major version 3, handshake type 1).
func looksLikeClientHello(b []byte) bool {
	return len(b) > 5 && b[0] == 0x16 && b[1] == 0x03 && b[5] == 0x01
}

// prepareHello parses the ClientHello a TCP packet's payload holds whole into out, using h as scratch space
// and prints for the fingerprints.
// It reports false when the payload is not one (not complete in it, malformed, or the parser panicked: the
// engine then meets the same bytes itself, and contains the panic as for any parser).
func prepareHello(p *decode.Packet, h *tlshello.Hello, prints *fingerprint.Memo, out *preparedHello) (ok bool) {
	if p.IPProto != protoTCP || !looksLikeClientHello(p.Payload) || p.Truncated {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if st, _, _ := tlshello.Parse(p.Payload, h); st != tlshello.Complete {
		return false
	}
	fp := prints.Client(h.Facts(), fingerprint.TCP)
	*out = preparedHello{size: len(p.Payload), sni: h.SNI, ech: h.ECH, ja4: fp.JA4, ja3: fp.JA3, alpn: slices.Clone(h.ALPN)}
	return true
}

// prepareDNS parses the DNS message of a UDP packet to or from port 53 into out, using scratch (whose buffers
// the parser keeps between messages) and copying the result. It reports false when the engine must parse the
// message itself: the parser found it unusable or panicked (parseDNS), which the engine then counts.
func prepareDNS(p *decode.Packet, scratch, out *dnsmsg.Message) bool {
	if p.IPProto != protoUDP || !isDNS(p) || len(p.Payload) == 0 {
		return false
	}
	if ok, _ := parseDNS(scratch, p.Payload); !ok {
		return false
	}
	scratch.CopyTo(out)
	return true
}
