package annotate

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pcapng block types and option codes this package reads or writes (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockPB  = 0x00000002 // obsolete packet block
	blockSPB = 0x00000003
	blockEPB = 0x00000006

	optEnd     = 0
	optComment = 1
	idbTsresol = 9

	byteOrderMagic = 0x1A2B3C4D
)

func isPcapng(magic []byte) bool {
	return binary.LittleEndian.Uint32(magic) == blockSHB
}

// copyPcapng copies every block of a pcapng stream, adding comments to the packet blocks that have marks.
func copyPcapng(w *bufio.Writer, in *bufio.Reader, q *markQueue, st *Stats) error {
	var order byteOrder = binary.LittleEndian
	var frame uint64
	buf := make([]byte, 0, 64<<10)
	for {
		typ, block, err := readBlock(in, &order, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			st.Truncated = errors.Is(err, io.ErrUnexpectedEOF)
			return err
		}
		buf = block[:0]
		switch typ {
		case blockSHB:
			st.Sections++
		case blockEPB, blockPB, blockSPB:
			frame++
			st.Packets++
			if comments := q.take(frame, st); len(comments) > 0 {
				if typ == blockSPB {
					st.Unplaced += uint64(len(comments))
				} else {
					block = withComments(block, order, comments)
					st.Comments += uint64(len(comments))
				}
			}
		}
		if _, err := w.Write(block); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
}

// readBlock reads one whole block into buf. A section header sets the byte order of what follows.
func readBlock(in *bufio.Reader, order *byteOrder, buf []byte) (uint32, []byte, error) {
	head, err := in.Peek(12)
	if len(head) == 0 && err != nil {
		return 0, nil, io.EOF
	}
	if len(head) < 12 {
		return 0, nil, fmt.Errorf("block header: %w", io.ErrUnexpectedEOF)
	}
	if binary.LittleEndian.Uint32(head) == blockSHB {
		switch {
		case binary.LittleEndian.Uint32(head[8:]) == byteOrderMagic:
			*order = binary.LittleEndian
		case binary.BigEndian.Uint32(head[8:]) == byteOrderMagic:
			*order = binary.BigEndian
		default:
			return 0, nil, errors.New("section header with an unknown byte-order magic")
		}
	}
	typ, n := (*order).Uint32(head), (*order).Uint32(head[4:])
	if n < 12 || n%4 != 0 {
		return 0, nil, fmt.Errorf("block of type %#x has a bad length %d", typ, n)
	}
	if n > MaxBlock {
		return 0, nil, fmt.Errorf("block of %d bytes is larger than the %d-byte cap", n, MaxBlock)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(in, buf); err != nil {
		return 0, nil, fmt.Errorf("block of type %#x: %w", typ, noEOF(err))
	}
	if (*order).Uint32(buf[n-4:]) != n {
		return 0, nil, fmt.Errorf("block of type %#x: trailing length does not match", typ)
	}
	return typ, buf, nil
}

// withComments returns the packet block with opt_comment options added after its own options (which keep
// their order, earlier comments included). A block whose options cannot be walked keeps them as they are and
// gets the comments appended after them.
func withComments(block []byte, order byteOrder, comments []string) []byte {
	body := block[8 : len(block)-4]
	// EPB: interface (4), ts high, ts low, captured, original; the obsolete PB: interface (2), drops (2), then
	// the same: the captured length sits at byte 12 of both.
	const fixed = 20
	if len(body) < fixed {
		return block
	}
	optStart := fixed + pad4(int(order.Uint32(body[12:16])))
	if optStart > len(body) {
		return block
	}
	opts := trimEndOfOpt(body[optStart:], order)
	out := make([]byte, 0, len(block)+64*len(comments))
	out = append(out, block[:8]...)
	out = append(out, body[:optStart]...)
	out = append(out, opts...)
	for _, c := range comments {
		out = appendOption(out, order, optComment, []byte(c))
	}
	out = appendOption(out, order, optEnd, nil)
	out = order.AppendUint32(out, 0)
	n := uint32(len(out))
	order.PutUint32(out[4:], n)
	order.PutUint32(out[len(out)-4:], n)
	return out
}

// trimEndOfOpt returns the options without their opt_endofopt (and anything after it). Options that run past
// the block are kept whole: the block's own length is what readers trust.
func trimEndOfOpt(opts []byte, order byteOrder) []byte {
	i := 0
	for i+4 <= len(opts) {
		code, n := order.Uint16(opts[i:]), int(order.Uint16(opts[i+2:]))
		if code == optEnd {
			return opts[:i]
		}
		next := i + 4 + pad4(n)
		if next > len(opts) {
			return opts
		}
		i = next
	}
	return opts[:i]
}

func appendOption(b []byte, order byteOrder, code uint16, val []byte) []byte {
	b = order.AppendUint16(b, code)
	b = order.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	for range pad4(len(val)) - len(val) {
		b = append(b, 0)
	}
	return b
}

func pad4(n int) int { return (n + 3) &^ 3 }

// byteOrder reads and appends in one byte order (binary.LittleEndian and binary.BigEndian are both).
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}
