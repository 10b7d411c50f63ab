package quic

import "fmt"

// Frame types of the Initial packet number space (RFC 9000 12.4, 19).
const (
	framePadding          = 0x00
	framePing             = 0x01
	frameACK              = 0x02
	frameACKECN           = 0x03
	frameCrypto           = 0x06
	frameConnectionClose  = 0x1c
	frameApplicationClose = 0x1d
)

// Close is a CONNECTION_CLOSE frame found in an Initial packet (RFC 9000 19.19).
type Close struct {
	Code      uint64 // transport error code; 0x100-0x1ff are TLS alerts (0x100 + alert), e.g. 0x128 handshake_failure
	FrameType uint64 // the frame type that triggered it, 0 when unknown
	App       bool   // an application close (type 0x1d), which RFC 9000 forbids in Initial packets
}

// frameSink receives what walkFrames finds.
type frameSink interface {
	crypto(off uint64, data []byte) error
	closed(c Close)
}

// walkFrames reads the frames of a decrypted Initial payload, handing CRYPTO data and CONNECTION_CLOSE to sink.
// It stops without error at a frame type that does not belong in an Initial packet: what follows cannot be
// delimited, and nothing after it matters here.
func walkFrames(p []byte, sink frameSink) error {
	r := reader{b: p}
	for r.left() > 0 {
		start := r.off
		typ := r.varint()
		switch typ {
		case framePadding:
			for r.left() > 0 && r.b[r.off] == 0 {
				r.off++
			}
		case framePing:
		case frameACK, frameACKECN:
			skipACK(&r, typ == frameACKECN)
		case frameCrypto:
			off := r.varint()
			data := r.take(r.varint())
			if r.err == nil {
				if err := sink.crypto(off, data); err != nil {
					return err
				}
			}
		case frameConnectionClose, frameApplicationClose:
			c := Close{Code: r.varint(), App: typ == frameApplicationClose}
			if !c.App {
				c.FrameType = r.varint()
			}
			r.take(r.varint()) // reason phrase
			if r.err == nil {
				sink.closed(c)
			}
		default:
			return nil
		}
		if r.err != nil {
			return fmt.Errorf("frame type %#x at offset %d: %w", typ, start, r.err)
		}
	}
	return nil
}

// skipACK reads past an ACK frame (RFC 9000 19.3). The range count is bounded by the payload: each range
// takes at least two bytes, and the reader stops at the end.
func skipACK(r *reader, ecn bool) {
	r.varint() // largest acknowledged
	r.varint() // delay
	n := r.varint()
	r.varint() // first range
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.varint() // gap
		r.varint() // range length
	}
	if ecn {
		r.varint()
		r.varint()
		r.varint()
	}
}
