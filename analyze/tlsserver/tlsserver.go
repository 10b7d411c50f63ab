// Package tlsserver reads the server's first flight of a TLS connection from the server->client TCP byte
// stream: the ServerHello (legacy and negotiated version, cipher suite, extension types in order, the ALPN
// protocol it selects), for TLS 1.0–1.2 the Certificate message (the DER certificates of the chain, in order)
// and ServerHelloDone, and any Alert record (level and description). It also reads a plaintext Alert that the
// client sends (ClientAlert), which is how a client says it rejected the server's certificate.
//
// The flight ends (Complete) at ServerHelloDone; at a ServerHello that negotiates TLS 1.3; at a
// ChangeCipherSpec or application data record (an abbreviated handshake: encrypted from there on); at a
// fatal alert or close_notify (other warnings are kept in Alert and reading goes on); or at MaxFlight bytes.
//
// Records are read one after another, handshake messages may span records and a record may hold several
// messages; bytes are fed as they come (Feed) or as a growing prefix of the stream (Parse), and each byte is
// looked at once. Only the ServerHello and the Certificate message are buffered, in one buffer per Flight
// that Reset keeps for the next connection; other messages are skipped as they pass.
//
// Caps: MaxFlight bytes of stream (a flight that is longer ends there, and a Certificate message that does
// not fit is reported ChainTooLarge and never buffered), MaxCerts certificates kept from a chain (the rest
// is reported ChainTruncated), MaxCert bytes for one certificate (ChainTooLarge), MaxExtensions
// ServerHello extensions.
//
// In TLS 1.3 everything after the ServerHello is encrypted (RFC 8446 2): the Certificate travels inside
// encrypted handshake records that a passive observer cannot read. The flight then ends at the ServerHello
// with ChainHidden: the chain is unknown, never guessed from what an earlier connection showed.
package tlsserver

import (
	"fmt"
	"slices"

	"github.com/intunecap/intunecap/analyze/tlshello"
)

// Status of a server's first bytes: tlshello's, so both parsers of a connection's start answer alike.
type Status = tlshello.Status

// The outcomes of Parse and Feed: for a server flight, Complete means read as far as it can be (Flight holds
// the facts), NotTLS that the first bytes cannot start a TLS handshake or alert record.
const (
	NeedMore  = tlshello.NeedMore
	NotTLS    = tlshello.NotTLS
	Complete  = tlshello.Complete
	Malformed = tlshello.Malformed
)

const (
	// MaxFlight is the most stream bytes read from a server's first flight. Real flights are 2–8 KB; a
	// chain of several RSA-4096 certificates with long SAN lists stays under 30 KB. Parse never asks for more;
	// a flight still open there is Complete with FlightTooLarge.
	MaxFlight = 64 << 10
	// MaxCerts is the most certificates kept from a Certificate message. Real chains have 2–4; the count of
	// all entries is still reported in CertificateCount.
	MaxCerts = 10
	// MaxCert is the largest single certificate accepted (real ones are 1–8 KB).
	MaxCert = 32 << 10
	// MaxExtensions is the most extensions a ServerHello may carry (a server answers only extensions the
	// client offered; real ServerHellos have fewer than 10).
	MaxExtensions = 64

	recordHeader    = 5
	handshakeHeader = 4
	// maxRecord is TLSCiphertext's limit (RFC 5246 6.2.3): the plaintext limit 2^14 plus 2048 of expansion.
	maxRecord = 1<<14 + 2048
)

// Record content types (RFC 8446 5.1).
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24
)

// Handshake message types (RFC 8446 4, RFC 5246 7.4).
const (
	msgHelloRequest    = 0
	msgServerHello     = 2
	msgCertificate     = 11
	msgServerHelloDone = 14
)

// ChainState says what a Flight knows of the server's certificate chain.
type ChainState uint8

// The chain states.
const (
	ChainNone      ChainState = iota // no Certificate message: not reached, resumed session, anonymous suite
	ChainComplete                    // Chain holds every certificate of the Certificate message
	ChainTruncated                   // Chain holds the first MaxCerts of more certificates
	ChainTooLarge                    // the message or one certificate is over MaxFlight or MaxCert: not read
	ChainHidden                      // TLS 1.3: the Certificate is encrypted
)

func (c ChainState) String() string {
	switch c {
	case ChainNone:
		return "none"
	case ChainComplete:
		return "complete"
	case ChainTruncated:
		return "truncated"
	case ChainTooLarge:
		return "too-large"
	case ChainHidden:
		return "hidden"
	}
	return fmt.Sprintf("chain(%d)", int(c))
}

// Flight is the server's first flight as far as it was read, and the reader's state. The zero value is ready
// for a new connection; Reset makes a used one ready again and keeps its buffers. Chain and Extensions alias
// the Flight's buffers: copy what must outlive the next Reset.
type Flight struct {
	ServerHello   bool     // a whole ServerHello was read
	LegacyVersion uint16   // ServerHello.legacy_version (0x0303 for TLS 1.2 and 1.3)
	Version       uint16   // negotiated: supported_versions when present, else LegacyVersion
	CipherSuite   uint16   // selected cipher suite; CipherName gives its IANA name
	Extensions    []uint16 // extension types of the ServerHello, in order
	ALPN          string   // protocol selected in the ServerHello (TLS 1.2 and below); "" when none
	HelloRetry    bool     // the ServerHello is a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3)

	Chain            [][]byte   // DER certificates of the Certificate message, leaf first
	ChainState       ChainState // what Chain holds
	CertificateCount int        // entries in the Certificate message, including those not kept
	HelloDone        bool       // ServerHelloDone was read
	Resumed          bool       // ChangeCipherSpec followed the ServerHello: an abbreviated handshake
	FlightTooLarge   bool       // MaxFlight bytes were read before the flight ended

	Alert   Alert // the last alert record read, if any
	Records int   // records whose header was read

	status Status
	err    error
	fed    int // stream bytes consumed

	hdr     [recordHeader]byte // record header being read
	hdrN    int
	recType byte
	recLeft int // body bytes of the current record not yet consumed

	msgHdr  [handshakeHeader]byte // handshake message header being read
	msgHdrN int
	msgType byte
	msgLeft int  // body bytes of the current handshake message not yet consumed
	msgKeep bool // the current message is buffered (ServerHello, Certificate), else skipped
	msgAt   int  // where the current message's body starts in buf

	alert  [2]byte
	alertN int

	buf []byte // ServerHello and Certificate bodies
}

// Reset makes f ready for a new connection, keeping its buffers.
func (f *Flight) Reset() {
	*f = Flight{Extensions: f.Extensions[:0], Chain: f.Chain[:0], buf: f.buf[:0]}
}

// Err is the reason for Malformed or NotTLS, nil otherwise.
func (f *Flight) Err() error { return f.err }

// Fed is how many stream bytes f has consumed.
func (f *Flight) Fed() int { return f.fed }

// Parse reads the server->client stream given as its prefix so far, the contract of analyze/tlshello.Parse:
// NeedMore with the stream length at which a new call can make progress (never more than MaxFlight), NotTLS,
// Complete or Malformed with the reason. Unlike tlshello.Parse, it resumes where the previous call on the
// same Flight stopped: stream must begin with the bytes given before (the engine's in-order prefix), and f
// must be new or Reset for another connection.
func Parse(stream []byte, f *Flight) (Status, int, error) {
	if f.fed < len(stream) {
		f.Feed(stream[f.fed:])
	}
	if f.status != NeedMore {
		return f.status, 0, f.err
	}
	return NeedMore, f.fed + f.want(), nil
}

// want is how many more bytes finish what is being read now: a record header or the current record.
func (f *Flight) want() int {
	n := f.recLeft
	if n == 0 {
		n = recordHeader - f.hdrN
	}
	return min(n, MaxFlight-f.fed)
}

// Feed consumes the next in-order bytes of the server->client stream. It returns NeedMore until the flight
// is decided; bytes after that are ignored, without allocating.
func (f *Flight) Feed(data []byte) (Status, error) {
	for len(data) > 0 && f.status == NeedMore {
		n := min(len(data), MaxFlight-f.fed)
		n = f.step(data[:n])
		f.fed += n
		data = data[n:]
		if f.status == NeedMore && f.fed >= MaxFlight {
			f.tooLarge()
		}
	}
	return f.status, f.err
}

// tooLarge ends a flight that reached MaxFlight.
func (f *Flight) tooLarge() {
	f.FlightTooLarge = true
	if f.ChainState == ChainNone && f.ServerHello {
		f.ChainState = ChainTooLarge
	}
	if !f.ServerHello {
		f.fail(fmt.Errorf("tls server flight: no server hello in the first %d bytes", MaxFlight))
		return
	}
	f.status = Complete
}

// step consumes a prefix of data: part of a record header or of a record body. It returns how much.
func (f *Flight) step(data []byte) int {
	if f.recLeft == 0 {
		return f.header(data)
	}
	n := min(len(data), f.recLeft)
	f.recLeft -= n
	switch f.recType {
	case recHandshake:
		f.handshake(data[:n])
	case recAlert:
		f.alertBytes(data[:n])
	}
	return n
}

// header reads record header bytes and, once all five are in, checks the record and decides what its body
// means.
func (f *Flight) header(data []byte) int {
	n := copy(f.hdr[f.hdrN:], data)
	f.hdrN += n
	if f.Records == 0 && sniff(f.hdr[:f.hdrN]) != NeedMore {
		f.status = NotTLS
		f.err = fmt.Errorf("tls server flight: first bytes % x are not a tls handshake or alert record", f.hdr[:f.hdrN])
		return n
	}
	if f.hdrN < recordHeader {
		return n
	}
	f.hdrN = 0
	f.Records++
	f.recType = f.hdr[0]
	length := int(be16(f.hdr[3:]))
	if f.hdr[1] != 3 || length > maxRecord {
		f.fail(fmt.Errorf("tls record %d at %d: version %#04x length %d", f.Records, f.fed+n-recordHeader, be16(f.hdr[1:]), length))
		return n
	}
	switch f.recType {
	case recHandshake, recAlert, recHeartbeat:
		if length == 0 && f.recType != recHeartbeat {
			f.fail(fmt.Errorf("tls record %d: empty %s record", f.Records, recordName(f.recType)))
		}
		f.recLeft = length
	case recChangeCipherSpec, recApplicationData:
		f.encrypted()
	default:
		f.fail(fmt.Errorf("tls record %d: content type %d", f.Records, f.recType))
	}
	return n
}

// encrypted ends the flight at a ChangeCipherSpec or application data record: what follows is encrypted.
func (f *Flight) encrypted() {
	if !f.ServerHello || f.msgLeft > 0 || f.msgHdrN > 0 {
		f.fail(fmt.Errorf("tls server flight: %s record before a whole server hello", recordName(f.recType)))
		return
	}
	f.Resumed = f.ChainState == ChainNone && !f.HelloDone
	f.status = Complete
}

// alertBytes collects the two bytes of an alert (they may in theory span records).
func (f *Flight) alertBytes(b []byte) {
	for _, c := range b {
		if f.alertN < 2 {
			f.alert[f.alertN] = c
			f.alertN++
		}
	}
	if f.alertN < 2 || f.recLeft > 0 {
		return
	}
	f.alertN = 0
	f.Alert = Alert{Level: AlertLevel(f.alert[0]), Description: AlertDescription(f.alert[1]), By: ByServer}
	if f.Alert.Level != LevelWarning || f.Alert.Description == CloseNotify {
		f.status = Complete
	}
}

func (f *Flight) fail(err error) {
	f.status, f.err = Malformed, err
}

// sniff decides from the first up to 3 bytes: a handshake (22) or alert (21) record of SSL 3.0 to TLS 1.3
// record version. A server may answer a ClientHello with an alert alone.
func sniff(b []byte) Status {
	switch {
	case len(b) > 0 && b[0] != recHandshake && b[0] != recAlert:
		return NotTLS
	case len(b) > 1 && b[1] != 3:
		return NotTLS
	case len(b) > 2 && b[2] > 4:
		return NotTLS
	}
	return NeedMore
}

func recordName(t byte) string {
	switch t {
	case recChangeCipherSpec:
		return "change_cipher_spec"
	case recAlert:
		return "alert"
	case recHandshake:
		return "handshake"
	case recApplicationData:
		return "application_data"
	case recHeartbeat:
		return "heartbeat"
	}
	return fmt.Sprintf("type %d", t)
}

// grow makes room for n more bytes in buf, allocating only when the kept capacity is too small.
func (f *Flight) grow(n int) {
	f.buf = slices.Grow(f.buf, n)
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
