package annotate

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// pcap file magics: microsecond and nanosecond timestamps.
const (
	pcapMicro = 0xa1b2c3d4
	pcapNano  = 0xa1b23c4d
)

// pcapOrder returns the byte order of a pcap file from its magic, or nil if it is not one.
func pcapOrder(magic []byte) byteOrder {
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		if m := o.Uint32(magic); m == pcapMicro || m == pcapNano {
			return o
		}
	}
	return nil
}

// copyPcap writes a pcap file as one pcapng section: a section header, one interface with the file's link
// type, snap length and timestamp resolution, and an enhanced packet block per record with the record's
// timestamp, lengths and bytes unchanged.
func copyPcap(w *bufio.Writer, in *bufio.Reader, q *markQueue, st *Stats) error {
	var hdr [24]byte
	if _, err := io.ReadFull(in, hdr[:]); err != nil {
		return fmt.Errorf("pcap header: %w", noEOF(err))
	}
	order := pcapOrder(hdr[:4])
	nano := order.Uint32(hdr[:4]) == pcapNano
	snap, link := order.Uint32(hdr[16:]), order.Uint32(hdr[20:])
	le := binary.LittleEndian
	if _, err := w.Write(sectionHeader()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	st.Sections++
	if _, err := w.Write(interfaceBlock(uint16(link&0xffff), snap, nano)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	var rec [16]byte
	var frame uint64
	data := make([]byte, 0, 64<<10)
	for {
		if _, err := io.ReadFull(in, rec[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			st.Truncated = true
			return fmt.Errorf("frame %d: record header: %w", frame+1, noEOF(err))
		}
		sec, frac := uint64(order.Uint32(rec[0:])), uint64(order.Uint32(rec[4:]))
		incl, orig := order.Uint32(rec[8:]), order.Uint32(rec[12:])
		if incl > MaxBlock {
			return fmt.Errorf("frame %d: record of %d bytes is larger than the %d-byte cap", frame+1, incl, MaxBlock)
		}
		data = data[:0]
		data = append(data, make([]byte, incl)...)
		if _, err := io.ReadFull(in, data); err != nil {
			st.Truncated = true
			return fmt.Errorf("frame %d: packet data: %w", frame+1, noEOF(err))
		}
		frame++
		st.Packets++
		perSec := uint64(1e6)
		if nano {
			perSec = 1e9
		}
		comments := q.take(frame, st)
		st.Comments += uint64(len(comments))
		block := enhancedPacket(sec*perSec+frac, incl, orig, data, comments, le)
		if _, err := w.Write(block); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
}

// sectionHeader is a little-endian section header block of unknown length, with no options.
func sectionHeader() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, blockSHB)
	b = le.AppendUint32(b, 28)
	b = le.AppendUint32(b, byteOrderMagic)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0))
	return le.AppendUint32(b, 28)
}

// interfaceBlock describes the one interface of a pcap file; if_tsresol says nanoseconds when they are.
func interfaceBlock(link uint16, snap uint32, nano bool) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, blockIDB)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, link)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, snap)
	if nano {
		b = appendOption(b, le, idbTsresol, []byte{9})
		b = appendOption(b, le, optEnd, nil)
	}
	return closeBlock(b, le)
}

// enhancedPacket builds an enhanced packet block on interface 0.
func enhancedPacket(ts uint64, incl, orig uint32, data []byte, comments []string, le byteOrder) []byte {
	b := make([]byte, 0, 32+pad4(len(data))+64*len(comments))
	b = le.AppendUint32(b, blockEPB)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(ts>>32))
	b = le.AppendUint32(b, uint32(ts))
	b = le.AppendUint32(b, incl)
	b = le.AppendUint32(b, orig)
	b = append(b, data...)
	b = append(b, make([]byte, pad4(len(data))-len(data))...)
	if len(comments) > 0 {
		for _, c := range comments {
			b = appendOption(b, le, optComment, []byte(c))
		}
		b = appendOption(b, le, optEnd, nil)
	}
	return closeBlock(b, le)
}

// closeBlock appends the trailing length and writes the total length into the header.
func closeBlock(b []byte, order byteOrder) []byte {
	b = order.AppendUint32(b, 0)
	n := uint32(len(b))
	order.PutUint32(b[4:], n)
	order.PutUint32(b[len(b)-4:], n)
	return b
}
