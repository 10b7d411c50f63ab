package dnsmsg

import (
	"fmt"
	"net/netip"
)

const (
	maxNameWire = 255 // RFC 1035 2.3.4, length octets and the root included
	maxPointers = 64  // more than a 255-byte name can need; a second guard beside the backwards-only rule
	maxEscaped  = maxNameWire * 4
)

// parser walks one message. Its name buffers belong to the Message, so that decoding a name allocates nothing
// once the Message has parsed one message; the caller turns them into strings.
type parser struct {
	msg     []byte
	off     int
	name    []byte // escaped owner name of the last question or record
	target  []byte // escaped CNAME target of the last record
	nameBuf []byte
	tgtBuf  []byte
}

func (p *parser) question() (Question, error) {
	name, next, err := readName(p.msg, p.off, p.nameBuf[:0])
	if err != nil {
		return Question{}, err
	}
	p.name = name
	if next+4 > len(p.msg) {
		return Question{}, errCut
	}
	p.off = next + 4
	return Question{Type: be16(p.msg[next:]), Class: be16(p.msg[next+2:])}, nil
}

// answer decodes one resource record of the answer section.
func (p *parser) answer() (RR, error) {
	name, next, err := readName(p.msg, p.off, p.nameBuf[:0])
	if err != nil {
		return RR{}, err
	}
	p.name = name
	rd, end, err := p.fixed(next)
	if err != nil {
		return RR{}, err
	}
	rr := RR{Type: be16(p.msg[next:]), Class: be16(p.msg[next+2:]), TTL: be32(p.msg[next+4:])}
	if err := p.rdata(&rr, rd, end); err != nil {
		return RR{}, err
	}
	p.off = end
	return rr, nil
}

// fixed checks the 10 fixed bytes after an owner name and returns where the rdata starts and ends.
func (p *parser) fixed(next int) (int, int, error) {
	if next+10 > len(p.msg) {
		return 0, 0, errCut
	}
	rd := next + 10
	end := rd + int(be16(p.msg[next+8:]))
	if end > len(p.msg) {
		return 0, 0, errCut
	}
	return rd, end, nil
}

func (p *parser) rdata(rr *RR, rd, end int) error {
	data := p.msg[rd:end]
	switch rr.Type {
	case TypeA:
		if len(data) != 4 {
			return fmt.Errorf("a rdata of %d bytes: %w", len(data), ErrMalformed)
		}
		rr.Addr = netip.AddrFrom4([4]byte(data))
	case TypeAAAA:
		if len(data) != 16 {
			return fmt.Errorf("aaaa rdata of %d bytes: %w", len(data), ErrMalformed)
		}
		rr.Addr = netip.AddrFrom16([16]byte(data))
	case TypeCNAME:
		// The target may point back into the message, but must end where the rdata ends.
		t, next, err := readName(p.msg[:end], rd, p.tgtBuf[:0])
		if err == errCut || (err == nil && next != end) {
			return fmt.Errorf("cname rdata: %w", ErrMalformed)
		}
		if err != nil {
			return fmt.Errorf("cname rdata: %w", err)
		}
		p.target = t
	}
	return nil
}

// skim steps over one authority or additional record; for an OPT record it returns the upper 8 bits of the
// extended rcode (RFC 6891 6.1.3).
func (p *parser) skim() (uint8, bool, error) {
	next, err := skipName(p.msg, p.off)
	if err != nil {
		return 0, false, err
	}
	_, end, err := p.fixed(next)
	if err != nil {
		return 0, false, err
	}
	p.off = end
	if be16(p.msg[next:]) != TypeOPT {
		return 0, false, nil
	}
	return p.msg[next+4], true, nil
}

// readName decodes the (possibly compressed) name at off into dst, escaped for printing, and returns the
// offset just after the name where it started. Loops are impossible: every pointer must point before the
// start of the run of labels that contains it, so the runs start at strictly decreasing offsets.
func readName(msg []byte, off int, dst []byte) ([]byte, int, error) {
	next, runStart, wire, ptrs := -1, off, 0, 0
	for {
		if off >= len(msg) {
			return dst, 0, errCut
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				if len(dst) == 0 {
					dst = append(dst, '.')
				}
				return dst, next, nil
			}
			if off+1+c > len(msg) {
				return dst, 0, errCut
			}
			if wire += 1 + c; wire+1 > maxNameWire {
				return dst, 0, fmt.Errorf("name longer than %d bytes: %w", maxNameWire, ErrMalformed)
			}
			if len(dst) > 0 {
				dst = append(dst, '.')
			}
			dst = appendLabel(dst, msg[off+1:off+1+c])
			off += 1 + c
		case 0xc0:
			if off+1 >= len(msg) {
				return dst, 0, errCut
			}
			target := (c&0x3f)<<8 | int(msg[off+1])
			if next < 0 {
				next = off + 2
			}
			if ptrs++; target >= runStart || ptrs > maxPointers {
				return dst, 0, fmt.Errorf("compression pointer %d at %d does not point backwards: %w", target, off, ErrMalformed)
			}
			off, runStart = target, target
		default:
			return dst, 0, fmt.Errorf("label type %#x at %d: %w", c&0xc0, off, ErrMalformed)
		}
	}
}

// skipName steps over a name without decoding it: a pointer ends the name in place.
func skipName(msg []byte, off int) (int, error) {
	for wire := 0; ; {
		if off >= len(msg) {
			return 0, errCut
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			if wire += 1 + c; wire+1 > maxNameWire {
				return 0, fmt.Errorf("name longer than %d bytes: %w", maxNameWire, ErrMalformed)
			}
			off += 1 + c
		case 0xc0:
			if off+1 >= len(msg) {
				return 0, errCut
			}
			return off + 2, nil
		default:
			return 0, fmt.Errorf("label type %#x at %d: %w", c&0xc0, off, ErrMalformed)
		}
	}
}

// appendLabel appends one label escaped like dig (BIND's presentation format): bytes outside printable
// ASCII and the space become \DDD, and characters special in zone files get a backslash, so that a name
// from a packet can be printed and still read back unambiguously.
func appendLabel(dst, label []byte) []byte {
	for _, c := range label {
		switch {
		case c <= ' ' || c >= 0x7f:
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		case c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
