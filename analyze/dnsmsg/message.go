// Package dnsmsg decodes the parts of DNS messages that intunecap needs to name connections: the question, the
// rcode and the A/AAAA/CNAME answers. It is written for hostile and snaplen-cut input: it never panics, never
// reads past the bytes it is given, refuses compression loops, and keeps what it parsed before a cut.
package dnsmsg

import (
	"errors"
	"fmt"
	"net/netip"
)

// Record types that the engine acts on; TypeString names the others.
const (
	TypeA     uint16 = 1
	TypeCNAME uint16 = 5
	TypeAAAA  uint16 = 28
	TypeOPT   uint16 = 41
	TypeHTTPS uint16 = 65
)

// Rcodes that decide a verdict; RcodeString names the others.
const (
	RcodeNoError  uint16 = 0
	RcodeServFail uint16 = 2
	RcodeNXDomain uint16 = 3
	RcodeRefused  uint16 = 5
)

const headerLen = 12

// Errors a caller may want to tell apart; every error returned by Parse wraps one of them.
var (
	// ErrShort means the bytes end before the 12-byte header does: only the ID and flags may have been read
	// (Partial is set).
	ErrShort = errors.New("dns message shorter than its header")
	// ErrMalformed means the message breaks the wire format (bad label, compression loop, bad rdata).
	ErrMalformed = errors.New("malformed dns message")
)

// errCut is internal: the bytes ended inside a record. Parse turns it into Partial.
var errCut = errors.New("dns message cut")

// Message is one decoded DNS message. Its slices are reused by the next Parse, so a caller that keeps a
// Question or RR beyond that must copy it (the strings themselves are immutable and safe to keep).
type Message struct {
	ID        uint16
	Response  bool   // QR bit
	Opcode    uint8  // 0 query, 5 update, ...
	Rcode     uint16 // header rcode, extended by the EDNS OPT record when that was read
	Truncated bool   // TC bit: the server asks the client to retry over TCP

	Questions []Question
	Answers   []RR // answer section only, in message order, all types

	// Partial reports that the bytes ended inside the message (a snaplen cut or a short TCP stream): the
	// questions and answers parsed before the cut are kept; a record cut in its middle is dropped.
	Partial bool

	scratch []byte // name buffers for the parser, kept across calls
	// known holds the names of earlier messages parsed by this Message, so that a name met again (a gateway's
	// devices look up the same few names all day) is not allocated again; at most maxKnownNames.
	known map[string]string
}

// maxKnownNames bounds Message.known; when it is full it starts over. A name is at most maxEscaped bytes, so
// the names kept hold at most about half a megabyte (a few kilobytes for real names).
const maxKnownNames = 512

// Question is one entry of the question section. Name is as sent (case kept, no trailing dot, "." for the root),
// with bytes that are unsafe to print escaped the way dig does (\DDD, and \. for a dot inside a label).
type Question struct {
	Name  string
	Type  uint16
	Class uint16
}

// RR is one answer record. Only the fields the engine follows are decoded: Addr for A and AAAA, Target for
// CNAME; other types keep their name, type and TTL so that a reader can still list them.
type RR struct {
	Name   string
	Type   uint16
	Class  uint16
	TTL    uint32
	Addr   netip.Addr // A and AAAA
	Target string     // CNAME, escaped like Name
}

// Parse decodes b, reusing m's slices. Names keep the case they were sent with: 0x20-randomised resolvers
// make case meaningless for matching, and the rules matcher folds case itself, while evidence should show
// what was on the wire. A message cut short is not an error: Parse sets Partial and returns nil. On an error
// m still holds what was parsed before the fault.
func (m *Message) Parse(b []byte) error {
	if m.scratch == nil {
		m.scratch = make([]byte, 2*maxEscaped)
	}
	*m = Message{Questions: m.Questions[:0], Answers: m.Answers[:0], scratch: m.scratch, known: m.known}
	m.header(b)
	if len(b) < headerLen {
		m.Partial = true
		return fmt.Errorf("parse dns header (%d bytes): %w", len(b), ErrShort)
	}
	p := parser{msg: b, off: headerLen, nameBuf: m.scratch[:0:maxEscaped], tgtBuf: m.scratch[maxEscaped:maxEscaped]}
	err := m.sections(&p, int(be16(b[4:])), int(be16(b[6:])), int(be16(b[8:]))+int(be16(b[10:])))
	if errors.Is(err, errCut) {
		m.Partial = true
		return nil
	}
	return err
}

// CopyTo makes dst a copy of m that shares nothing with it (its slices reused), so that m can parse the next
// message while another goroutine reads dst.
func (m *Message) CopyTo(dst *Message) {
	*dst = Message{ID: m.ID, Response: m.Response, Opcode: m.Opcode, Rcode: m.Rcode, Truncated: m.Truncated,
		Questions: append(dst.Questions[:0], m.Questions...), Answers: append(dst.Answers[:0], m.Answers...),
		Partial: m.Partial, scratch: dst.scratch, known: dst.known}
}

// header reads the ID and flags when present: a response cut right after its flags still tells its rcode.
func (m *Message) header(b []byte) {
	if len(b) >= 2 {
		m.ID = be16(b)
	}
	if len(b) >= 4 {
		flags := be16(b[2:])
		m.Response = flags&0x8000 != 0
		m.Opcode = uint8(flags>>11) & 0xf
		m.Truncated = flags&0x0200 != 0
		m.Rcode = flags & 0xf
	}
}

// sections reads qd questions, an answers and skims the other records for an OPT record.
func (m *Message) sections(p *parser, qd, an, rest int) error {
	for i := 0; i < qd; i++ {
		q, err := p.question()
		if err != nil {
			return wrap("question", i, err)
		}
		q.Name = m.intern(p.name)
		m.Questions = append(m.Questions, q)
	}
	for i := 0; i < an; i++ {
		rr, err := p.answer()
		if err != nil {
			return wrap("answer", i, err)
		}
		rr.Name = m.intern(p.name)
		if rr.Type == TypeCNAME {
			rr.Target = m.intern(p.target)
		}
		m.Answers = append(m.Answers, rr)
	}
	for i := 0; i < rest; i++ {
		ext, ok, err := p.skim()
		if err != nil {
			return wrap("authority/additional record", i, err)
		}
		if ok {
			m.Rcode |= uint16(ext) << 4
		}
	}
	return nil
}

func wrap(what string, i int, err error) error {
	if errors.Is(err, errCut) {
		return err
	}
	return fmt.Errorf("parse dns %s %d: %w", what, i, err)
}

// intern returns a string for the escaped name in buf, reusing an equal name of this message or of an earlier
// one: answers usually repeat the question name and the previous CNAME target, and clients ask for the same
// names again, so most names cost no allocation.
func (m *Message) intern(buf []byte) string {
	if len(m.Questions) > 0 && m.Questions[0].Name == string(buf) {
		return m.Questions[0].Name
	}
	if n := len(m.Answers); n > 0 {
		last := &m.Answers[n-1]
		if last.Target == string(buf) {
			return last.Target
		}
		if last.Name == string(buf) {
			return last.Name
		}
	}
	if s, ok := m.known[string(buf)]; ok {
		return s
	}
	s := string(buf)
	if m.known == nil {
		m.known = make(map[string]string)
	} else if len(m.known) >= maxKnownNames {
		clear(m.known)
	}
	m.known[s] = s
	return s
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
