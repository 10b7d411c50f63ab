package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
	"unicode/utf8"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types and option codes this reader uses (draft-ietf-opsawg-pcapng).
const (
	ngSectionHeader   = 0x0a0d0d0a
	ngInterfaceDesc   = 0x00000001
	ngPacketObsolete  = 0x00000002
	ngSimplePacket    = 0x00000003
	ngInterfaceStats  = 0x00000005
	ngEnhancedPacket  = 0x00000006
	ngByteOrderMagic  = 0x1a2b3c4d
	ngOptEnd          = 0
	ngOptIfName       = 2
	ngOptIfTsresol    = 9
	ngOptIfTsoffset   = 14
	ngOptIsbIfRecv    = 4
	ngOptIsbIfDrop    = 5
	ngBlockHeaderLen  = 8 // type and total length
	ngBlockTrailerLen = 4 // total length again
)

// errNoTimestamp marks a simple packet block, which has no timestamp.
var errNoTimestamp = errors.New("no timestamp")

// ngInterface is what the reader keeps of one interface description of the current section.
type ngInterface struct {
	fileIndex int // index over the whole file
	linkType  layers.LinkType
	snapLen   uint32
	units     uint64 // timestamp units per second (if_tsresol)
	offset    int64  // seconds added to every timestamp (if_tsoffset)
}

// pcapngBlocks reads the blocks of a pcapng file: packets, and the interface descriptions and statistics that
// FileStats report. It holds at most one block (maxBlockLen), keeps nothing of the blocks it does not parse,
// and returns each frame as a slice of the buffered reader's buffer, or of its own for a block longer than
// that, valid until the next call.
type pcapngBlocks struct {
	br         *bufio.Reader
	ifs        *[]Interface // the file's interfaces, which this reader appends to and updates
	order      binary.ByteOrder
	section    []ngInterface
	sections   int
	skipping   bool   // the current section has a version this reader does not know: its blocks are read past
	oddVersion int    // sections skipped for their version
	pos        int64  // stream offset of the next block
	blockStart int64  // stream offset of the block read last (or failed)
	buf        []byte // a block longer than br's buffer
}

// ngFrame is one packet block: its data, interface (file-wide), lengths and timestamp.
type ngFrame struct {
	data    []byte
	iface   int
	lt      layers.LinkType
	wireLen int
	capLen  int // the captured length the block gives, even when data is nil (over a cap); -1 unknown
	ts      time.Time
	tsErr   error // errNoTimestamp, or why the timestamp is out of range
}

// newPcapngBlocks reads the first section header.
func newPcapngBlocks(br *bufio.Reader, ifs *[]Interface) (*pcapngBlocks, error) {
	r := &pcapngBlocks{br: br, ifs: ifs, order: binary.LittleEndian}
	typ, body, err := r.block()
	if err != nil {
		return nil, noEOF(err)
	}
	if typ != ngSectionHeader {
		return nil, fmt.Errorf("first block has type %#x, not a section header", typ)
	}
	if err := r.sectionHeader(body); err != nil {
		return nil, err
	}
	return r, nil
}

// next returns the next packet block. A packet block over the caps comes back with nil data and the lengths it
// claims; the caller counts and reports it.
func (r *pcapngBlocks) next() (ngFrame, error) {
	for {
		typ, body, err := r.block()
		if errors.Is(err, errBlockOverCap) {
			return r.packet(typ, nil)
		}
		if err != nil {
			return ngFrame{}, err
		}
		switch {
		case typ == ngSectionHeader:
			err = r.sectionHeader(body)
		case r.skipping:
		case typ == ngInterfaceDesc:
			err = r.interfaceDesc(body)
		case typ == ngInterfaceStats:
			err = r.interfaceStats(body)
		case typ == ngEnhancedPacket || typ == ngPacketObsolete || typ == ngSimplePacket:
			return r.packet(typ, body)
		}
		if err != nil {
			return ngFrame{}, err
		}
	}
}

// errBlockOverCap is a packet block longer than maxBlockLen, read past; block returns it with the body nil.
var errBlockOverCap = errors.New("block over the cap")

// block reads the next block and returns its type and body (between the length fields). A block it does not
// parse is read past and comes back with a nil body, as does a packet block over maxBlockLen.
func (r *pcapngBlocks) block() (uint32, []byte, error) {
	r.blockStart = r.pos
	hdr, err := r.br.Peek(ngBlockHeaderLen)
	if err != nil {
		if len(hdr) == 0 && errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, noEOF(err)
	}
	typ := r.order.Uint32(hdr)
	if typ == ngSectionHeader {
		if err := r.byteOrder(); err != nil {
			return 0, nil, err
		}
	}
	total := int64(r.order.Uint32(hdr[4:]))
	if total < ngBlockHeaderLen+ngBlockTrailerLen || total%4 != 0 {
		return 0, nil, fmt.Errorf("pcapng block of type %#x has an invalid length %d", typ, total)
	}
	r.pos += total
	if !r.parses(typ) {
		return typ, nil, r.discard(total)
	}
	if total > maxBlockLen {
		if typ != ngEnhancedPacket && typ != ngPacketObsolete && typ != ngSimplePacket {
			return 0, nil, fmt.Errorf("pcapng block of type %#x is %d bytes long, over the %d-byte cap", typ, total, maxBlockLen)
		}
		if err := r.discard(total); err != nil {
			return 0, nil, err
		}
		return typ, nil, errBlockOverCap
	}
	b, err := r.read(int(total))
	if err != nil {
		return 0, nil, err
	}
	if trail := int64(r.order.Uint32(b[total-ngBlockTrailerLen:])); trail != total {
		return 0, nil, fmt.Errorf("pcapng block of type %#x: length %d at its start, %d at its end", typ, total, trail)
	}
	return typ, b[ngBlockHeaderLen : total-ngBlockTrailerLen], nil
}

// parses reports whether the reader looks into blocks of type typ in the current section.
func (r *pcapngBlocks) parses(typ uint32) bool {
	switch typ {
	case ngSectionHeader:
		return true
	case ngInterfaceDesc, ngInterfaceStats, ngEnhancedPacket, ngPacketObsolete, ngSimplePacket:
		return !r.skipping
	}
	return false
}

// byteOrder reads the byte-order magic of the section header at the reader's position.
func (r *pcapngBlocks) byteOrder() error {
	b, err := r.br.Peek(ngBlockHeaderLen + 4)
	if err != nil {
		return noEOF(err)
	}
	switch uint32(ngByteOrderMagic) {
	case binary.LittleEndian.Uint32(b[8:]):
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(b[8:]):
		r.order = binary.BigEndian
	default:
		return fmt.Errorf("pcapng section header has a bad byte-order magic % x", b[8:12])
	}
	return nil
}

// read returns the next n bytes, from br's buffer when they fit it, else from a buffer of the reader's own
// (n is at most maxBlockLen).
func (r *pcapngBlocks) read(n int) ([]byte, error) {
	if n <= r.br.Size() {
		b, err := r.br.Peek(n)
		if err != nil {
			return nil, noEOF(err)
		}
		_, _ = r.br.Discard(n)
		return b, nil
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// discard reads past n bytes without keeping them.
func (r *pcapngBlocks) discard(n int64) error {
	for n > 0 {
		step := int(min(n, 1<<30))
		m, err := r.br.Discard(step)
		n -= int64(m)
		if err != nil {
			return noEOF(err)
		}
	}
	return nil
}

// sectionHeader starts a new section: interface ids restart at 0.
func (r *pcapngBlocks) sectionHeader(body []byte) error {
	r.sections++
	if r.sections > maxSections {
		return fmt.Errorf("more than %d pcapng sections", maxSections)
	}
	if len(body) < 16 {
		return fmt.Errorf("pcapng section header of %d bytes is too short", len(body))
	}
	r.section = r.section[:0]
	major, minor := r.order.Uint16(body[4:]), r.order.Uint16(body[6:])
	r.skipping = major != 1 || (minor != 0 && minor != 2) // 1.2 was written by early tools; Wireshark reads it
	if r.skipping {
		r.oddVersion++
	}
	return nil
}

// interfaceDesc adds an interface to the section and to the file's list.
func (r *pcapngBlocks) interfaceDesc(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("pcapng interface description of %d bytes is too short", len(body))
	}
	if len(*r.ifs) >= maxInterfaces {
		return fmt.Errorf("more than %d pcapng interfaces", maxInterfaces)
	}
	ifc := ngInterface{fileIndex: len(*r.ifs), linkType: layers.LinkType(r.order.Uint16(body)),
		snapLen: r.order.Uint32(body[4:]), units: 1e6}
	var name string
	err := r.options(body[8:], func(code uint16, v []byte) error {
		switch code {
		case ngOptIfName:
			name = cutName(v)
		case ngOptIfTsresol:
			if len(v) >= 1 {
				units, err := tsUnits(v[0])
				if err != nil {
					return err
				}
				ifc.units = units
			}
		case ngOptIfTsoffset:
			if len(v) >= 8 {
				ifc.offset = int64(r.order.Uint64(v))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.section = append(r.section, ifc)
	*r.ifs = append(*r.ifs, Interface{Index: ifc.fileIndex, Name: name, LinkType: ifc.linkType, SnapLen: ifc.snapLen})
	return nil
}

// cutName keeps at most maxInterfaceNameLen bytes of an interface name, cut at a UTF-8 boundary.
func cutName(v []byte) string {
	if len(v) <= maxInterfaceNameLen {
		return string(v)
	}
	v = v[:maxInterfaceNameLen]
	for len(v) > 0 && !utf8.Valid(v) {
		v = v[:len(v)-1]
	}
	return string(v)
}

// tsUnits turns an if_tsresol value into units per second: 10^v, or 2^(v&0x7f) when the top bit is set.
func tsUnits(v byte) (uint64, error) {
	if v&0x80 != 0 {
		if e := v & 0x7f; e <= 63 {
			return 1 << e, nil
		}
		return 0, fmt.Errorf("pcapng interface timestamp resolution 2^-%d is finer than 2^-63", v&0x7f)
	}
	if v > 19 {
		return 0, fmt.Errorf("pcapng interface timestamp resolution 10^-%d is finer than 10^-19", v)
	}
	u := uint64(1)
	for range v {
		u *= 10
	}
	return u, nil
}

// interfaceStats reads the counters of an interface statistics block; they are cumulative, so the latest win.
func (r *pcapngBlocks) interfaceStats(body []byte) error {
	if len(body) < 12 {
		return fmt.Errorf("pcapng interface statistics block of %d bytes is too short", len(body))
	}
	ifc, err := r.iface(r.order.Uint32(body))
	if err != nil {
		return err
	}
	st := &(*r.ifs)[ifc.fileIndex]
	return r.options(body[12:], func(code uint16, v []byte) error {
		if len(v) < 8 {
			return nil
		}
		switch code {
		case ngOptIsbIfRecv:
			st.Received = r.order.Uint64(v)
		case ngOptIsbIfDrop:
			st.DropsKnown, st.Dropped = true, r.order.Uint64(v)
		}
		return nil
	})
}

// iface returns the section's interface id.
func (r *pcapngBlocks) iface(id uint32) (*ngInterface, error) {
	if uint64(id) >= uint64(len(r.section)) {
		return nil, fmt.Errorf("interface id %d not present in section (have only %d interfaces)", id, len(r.section))
	}
	return &r.section[id], nil
}

// options walks the options in b, stopping at the end-of-options option, at the end of b, or at an option
// that runs past it (the block's fixed fields are still good).
func (r *pcapngBlocks) options(b []byte, fn func(code uint16, v []byte) error) error {
	for len(b) >= 4 {
		code, n := r.order.Uint16(b), int(r.order.Uint16(b[2:]))
		if code == ngOptEnd || 4+n > len(b) {
			return nil
		}
		if err := fn(code, b[4:4+n]); err != nil {
			return err
		}
		b = b[min(len(b), 4+(n+3)&^3):]
	}
	return nil
}

// packet reads a packet block: enhanced, simple or obsolete.
func (r *pcapngBlocks) packet(typ uint32, body []byte) (ngFrame, error) {
	if typ == ngSimplePacket {
		return r.simplePacket(body)
	}
	if body == nil { // over maxBlockLen, read past; the block's fields are gone with it
		return ngFrame{capLen: -1}, nil
	}
	if len(body) < 20 {
		return ngFrame{}, fmt.Errorf("pcapng packet block of %d bytes is too short", len(body))
	}
	var id uint32
	if typ == ngEnhancedPacket {
		id = r.order.Uint32(body)
	} else {
		id = uint32(r.order.Uint16(body))
	}
	ifc, err := r.iface(id)
	if err != nil {
		return ngFrame{}, err
	}
	capLen, wireLen := int64(r.order.Uint32(body[12:])), int64(r.order.Uint32(body[16:]))
	if capLen > int64(len(body)-20) {
		return ngFrame{}, fmt.Errorf("pcapng packet's captured length %d runs past its block", capLen)
	}
	f := ngFrame{iface: ifc.fileIndex, lt: ifc.linkType, wireLen: int(wireLen), capLen: int(capLen)}
	if capLen <= maxFrameLen {
		f.data = body[20 : 20+capLen : 20+capLen]
	}
	f.ts, f.tsErr = ifc.time(uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:])))
	return f, nil
}

// simplePacket reads a simple packet block: interface 0, no timestamp, the data up to the snapshot length.
func (r *pcapngBlocks) simplePacket(body []byte) (ngFrame, error) {
	ifc, err := r.iface(0)
	if err != nil {
		return ngFrame{}, fmt.Errorf("simple packet block: %w", err)
	}
	f := ngFrame{iface: ifc.fileIndex, lt: ifc.linkType, capLen: -1, tsErr: errNoTimestamp}
	if body == nil {
		return f, nil
	}
	if len(body) < 4 {
		return ngFrame{}, fmt.Errorf("pcapng simple packet block of %d bytes is too short", len(body))
	}
	wire := int64(r.order.Uint32(body))
	n := min(wire, int64(len(body)-4))
	if ifc.snapLen != 0 {
		n = min(n, int64(ifc.snapLen))
	}
	f.wireLen, f.capLen = int(wire), int(n)
	if n <= maxFrameLen {
		f.data = body[4 : 4+n : 4+n]
	}
	return f, nil
}

// time converts a timestamp in the interface's units, or says why it is out of range (before 1970 or after
// maxUnixSeconds).
func (ifc *ngInterface) time(ts uint64) (time.Time, error) {
	sec, frac := ts/ifc.units, ts%ifc.units
	hi, lo := bits.Mul64(frac, 1e9)
	ns, _ := bits.Div64(hi, lo, ifc.units) // frac < units, so hi < units: no overflow
	if sec > maxUnixSeconds || ifc.offset > maxUnixSeconds || ifc.offset < -maxUnixSeconds {
		return time.Time{}, fmt.Errorf("timestamp overflow: %d units of 1/%d s plus an offset of %d s is after the year 2262",
			ts, ifc.units, ifc.offset)
	}
	s := int64(sec) + ifc.offset
	if s < 0 || s > maxUnixSeconds {
		return time.Time{}, fmt.Errorf("timestamp out of range: %d s after 1970 is not between 1970 and 2262", s)
	}
	return time.Unix(s, int64(ns)).UTC(), nil
}
