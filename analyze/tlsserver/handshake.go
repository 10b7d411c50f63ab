package tlsserver

import (
	"errors"
	"fmt"

	"github.com/intunecap/intunecap/internal/tlsread"
)

// Extension numbers read from the ServerHello.
const (
	extALPN              = 16
	extSupportedVersions = 43
)

// helloRetryRandom is the ServerHello.random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest")
// (RFC 8446 4.1.3).
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// handshake consumes handshake-record bytes: message headers, then bodies that are buffered or skipped.
func (f *Flight) handshake(b []byte) {
	for len(b) > 0 && f.status == NeedMore {
		if f.msgLeft == 0 {
			n := copy(f.msgHdr[f.msgHdrN:], b)
			f.msgHdrN += n
			b = b[n:]
			if f.msgHdrN == handshakeHeader {
				f.msgHdrN = 0
				f.startMessage()
			}
			continue
		}
		n := min(len(b), f.msgLeft)
		if f.msgKeep {
			f.buf = append(f.buf, b[:n]...)
		}
		f.msgLeft -= n
		b = b[n:]
		if f.msgLeft == 0 {
			f.endMessage()
		}
	}
}

// startMessage decides from a message header whether to buffer the body, skip it, or stop.
func (f *Flight) startMessage() {
	f.msgType = f.msgHdr[0]
	f.msgLeft = int(f.msgHdr[1])<<16 | int(f.msgHdr[2])<<8 | int(f.msgHdr[3])
	f.msgKeep = false
	switch {
	case f.msgType == msgHelloRequest:
	case !f.ServerHello && f.msgType != msgServerHello:
		f.fail(fmt.Errorf("tls handshake message type %d before the server hello", f.msgType))
		return
	case f.msgType == msgServerHello:
		if f.ServerHello {
			f.fail(errors.New("tls server flight: a second server hello"))
			return
		}
		f.keep()
	case f.msgType == msgCertificate && f.ChainState == ChainNone:
		f.keep()
	}
	if f.msgLeft == 0 {
		f.endMessage()
	}
}

// keep buffers the current message when it fits in MaxFlight, else reports it too large and skips it.
func (f *Flight) keep() {
	if len(f.buf)+f.msgLeft > MaxFlight {
		if f.msgType == msgServerHello {
			f.fail(fmt.Errorf("tls server hello of %d bytes", f.msgLeft))
			return
		}
		f.ChainState = ChainTooLarge
		return
	}
	f.grow(f.msgLeft)
	f.msgKeep, f.msgAt = true, len(f.buf)
}

// endMessage acts on a whole message.
func (f *Flight) endMessage() {
	body := f.buf[f.msgAt:]
	switch {
	case f.msgType == msgServerHello && f.msgKeep:
		if err := f.serverHello(body); err != nil {
			f.fail(fmt.Errorf("tls server hello: %w", err))
			return
		}
		f.ServerHello = true
		if f.tls13() {
			f.ChainState = ChainHidden
			f.status = Complete
		}
	case f.msgType == msgCertificate && f.msgKeep:
		if err := f.certificate(body); err != nil {
			f.fail(fmt.Errorf("tls certificate: %w", err))
		}
	case f.msgType == msgServerHelloDone:
		f.HelloDone = true
		f.status = Complete
	}
	f.msgKeep = false
}

// tls13 reports a ServerHello that negotiated TLS 1.3 or one of its drafts: everything after it is encrypted.
func (f *Flight) tls13() bool {
	return f.Version > 0x0303
}

// serverHello reads a ServerHello body (RFC 8446 4.1.3, RFC 5246 7.4.1.3), checking every length.
func (f *Flight) serverHello(body []byte) error {
	r := reader{B: body}
	f.LegacyVersion = uint16(r.U16())
	random := r.Take(32)
	draft := f.LegacyVersion>>8 == 0x7f // TLS 1.3 drafts up to 21: no session id, no compression
	if !draft {
		if sid := r.Vec8(); len(sid) > 32 {
			return fmt.Errorf("session id of %d bytes", len(sid))
		}
	}
	f.CipherSuite = uint16(r.U16())
	if !draft {
		r.U8() // compression method
	}
	if r.Err != nil {
		return fmt.Errorf("fixed part: %w", r.Err)
	}
	f.HelloRetry = [32]byte(random) == helloRetryRandom
	f.Version = f.LegacyVersion
	if len(r.B) == 0 {
		return nil // no extensions
	}
	exts := reader{B: r.Vec16()}
	if r.Err != nil || len(r.B) != 0 {
		return fmt.Errorf("extensions length: %w", tlsread.ErrShort)
	}
	for len(exts.B) > 0 {
		typ := exts.U16()
		data := exts.Vec16()
		if exts.Err != nil {
			return fmt.Errorf("extension %d: %w", typ, exts.Err)
		}
		if len(f.Extensions) == MaxExtensions {
			return fmt.Errorf("more than %d extensions", MaxExtensions)
		}
		f.Extensions = append(f.Extensions, uint16(typ))
		if err := f.extension(typ, data); err != nil {
			return fmt.Errorf("extension %d: %w", typ, err)
		}
	}
	return nil
}

func (f *Flight) extension(typ int, data []byte) error {
	r := reader{B: data}
	switch typ {
	case extSupportedVersions:
		f.Version = uint16(r.U16())
	case extALPN:
		list := reader{B: r.Vec16()}
		p := list.Vec8()
		if list.Err != nil || len(list.B) != 0 || len(p) == 0 {
			return errors.New("alpn must name exactly one protocol")
		}
		f.ALPN = protocol(p)
	default:
		return nil
	}
	if r.Err == nil && len(r.B) != 0 {
		r.Err = errors.New("bytes after the extension's content")
	}
	return r.Err
}

// certificate reads a TLS 1.0–1.2 Certificate body (RFC 5246 7.4.2): a 3-byte list length, then each
// certificate with a 3-byte length. Chain slices alias buf.
func (f *Flight) certificate(body []byte) error {
	r := reader{B: body}
	list := reader{B: r.Vec24()}
	if r.Err != nil || len(r.B) != 0 {
		return fmt.Errorf("list length: %w", tlsread.ErrShort)
	}
	f.ChainState = ChainComplete
	for len(list.B) > 0 {
		der := list.Vec24()
		if list.Err != nil || len(der) == 0 {
			f.Chain = f.Chain[:0]
			return fmt.Errorf("certificate %d: %w", f.CertificateCount+1, tlsread.ErrShort)
		}
		f.CertificateCount++
		switch {
		case f.ChainState != ChainComplete:
		case len(der) > MaxCert:
			f.ChainState = ChainTooLarge
		case len(f.Chain) == MaxCerts:
			f.ChainState = ChainTruncated
		default:
			f.Chain = append(f.Chain, der[:len(der):len(der)])
		}
	}
	return nil
}

// protocol turns an ALPN id into a string without allocating for the common ones.
func protocol(b []byte) string {
	switch string(b) {
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	case "h3":
		return "h3"
	}
	return string(b)
}

// reader is the shared reader of length-prefixed TLS fields.
type reader = tlsread.Reader
