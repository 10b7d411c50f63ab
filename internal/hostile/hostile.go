// Package hostile writes small files that claim, or expand to, huge contents: the inputs an attacker or a
// careless user gives intunecap to make it take gigabytes. Tests make them at run time (they are never
// committed) and check that reading them stays within the caps; tools/hostile writes them to disk for a
// manual run.
//
// Gigabytes of zeros are written as repeats of one precompressed gzip member of zeros: gzip readers read
// concatenated members as one stream, so a 2 GiB frame costs about 2 MB of file and no time to compress.
package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Case is one hostile input: its file name (the extension says the format) and what writes it.
type Case struct {
	Name  string
	Write func(w io.Writer) error
}

// Cases are the capture files of the hostile set, by name.
func Cases() []Case {
	return []Case{
		{"pcap-2gib-frame.pcap.gz", func(w io.Writer) error { return PcapHugeFrame(w, 2<<30) }},
		{"pcapng-1gib-block.pcapng.gz", func(w io.Writer) error { return PcapngHugeBlock(w, 1<<30) }},
		{"pcapng-long-names.pcapng.gz", func(w io.Writer) error { return PcapngLongNames(w, 30000, 65000) }},
		{"pcapng-many-sections.pcapng.gz", func(w io.Writer) error { return PcapngManySections(w, 2_000_000) }},
		{"pcapng-timestamp-overflow.pcapng", PcapngTimestampOverflow},
		{"pcap-far-future.pcap", PcapFarFuture},
	}
}

// zeroMember is one gzip member holding zeroChunk zero bytes.
const zeroChunk = 1 << 20

var zeroMember = func() []byte {
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = z.Write(make([]byte, zeroChunk))
	_ = z.Close()
	return b.Bytes()
}()

// gz writes data as one gzip member.
func gz(w io.Writer, data []byte) error {
	z := gzip.NewWriter(w)
	if _, err := z.Write(data); err != nil {
		return err
	}
	return z.Close()
}

// zeros writes n zero bytes (a multiple of 4) as gzip members.
func zeros(w io.Writer, n int64) error {
	for ; n >= zeroChunk; n -= zeroChunk {
		if _, err := w.Write(zeroMember); err != nil {
			return err
		}
	}
	if n > 0 {
		return gz(w, make([]byte, n))
	}
	return nil
}

var le = binary.LittleEndian

// PcapHeader is a little-endian microsecond Ethernet pcap file header with the given snapshot length.
func PcapHeader(snaplen uint32) []byte {
	h := make([]byte, 24)
	le.PutUint32(h, 0xa1b2c3d4)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], snaplen)
	le.PutUint32(h[20:], 1)
	return h
}

// PcapRecord is a pcap packet record: header and data.
func PcapRecord(sec, usec uint32, data []byte) []byte {
	h := make([]byte, 16, 16+len(data))
	le.PutUint32(h, sec)
	le.PutUint32(h[4:], usec)
	le.PutUint32(h[8:], uint32(len(data)))
	le.PutUint32(h[12:], uint32(len(data)))
	return append(h, data...)
}

// Frame is a 60-byte frame marked with n, for the good frames around the hostile ones.
func Frame(n byte) []byte { return bytes.Repeat([]byte{n}, 60) }

// PcapHugeFrame is a gzip pcap whose header allows frames of size bytes and whose second of three records
// is one: a good frame, size zero bytes, a good frame.
func PcapHugeFrame(w io.Writer, size int64) error {
	head := append(PcapHeader(uint32(size)), PcapRecord(1000, 0, Frame(1))...)
	rec := make([]byte, 16)
	le.PutUint32(rec, 1001)
	le.PutUint32(rec[8:], uint32(size))
	le.PutUint32(rec[12:], uint32(size))
	if err := gz(w, append(head, rec...)); err != nil {
		return err
	}
	if err := zeros(w, size); err != nil {
		return err
	}
	return gz(w, PcapRecord(1002, 0, Frame(3)))
}

// Block is a little-endian pcapng block of type typ around body (padded to 4 bytes by the caller).
func Block(typ uint32, body []byte) []byte {
	n := uint32(12 + len(body))
	b := make([]byte, 8, n)
	le.PutUint32(b, typ)
	le.PutUint32(b[4:], n)
	b = append(b, body...)
	return le.AppendUint32(b, n)
}

// SectionHeader is a pcapng 1.0 section header block with no options.
func SectionHeader() []byte {
	body := make([]byte, 16)
	le.PutUint32(body, 0x1a2b3c4d)
	le.PutUint16(body[4:], 1)
	le.PutUint64(body[8:], ^uint64(0))
	return Block(0x0a0d0d0a, body)
}

// InterfaceDesc is an Ethernet interface description block named name (no name when empty).
func InterfaceDesc(name string) []byte {
	body := make([]byte, 8)
	le.PutUint16(body, 1)
	if name != "" {
		body = le.AppendUint16(body, 2)
		body = le.AppendUint16(body, uint16(len(name)))
		body = append(body, name...)
		body = append(body, make([]byte, (4-len(name)%4)%4)...)
		body = append(body, 0, 0, 0, 0)
	}
	return Block(1, body)
}

// EnhancedPacket is an enhanced packet block of interface 0 with a timestamp in microseconds.
func EnhancedPacket(ts uint64, data []byte) []byte {
	body := make([]byte, 20)
	le.PutUint32(body[4:], uint32(ts>>32))
	le.PutUint32(body[8:], uint32(ts))
	le.PutUint32(body[12:], uint32(len(data)))
	le.PutUint32(body[16:], uint32(len(data)))
	body = append(body, data...)
	return Block(6, append(body, make([]byte, (4-len(data)%4)%4)...))
}

// PcapngHugeBlock is a gzip pcapng whose second of three packets is an enhanced packet block of size zero
// bytes (a multiple of 4).
func PcapngHugeBlock(w io.Writer, size int64) error {
	head := bytes.Join([][]byte{SectionHeader(), InterfaceDesc("eth0"), EnhancedPacket(1000e6, Frame(1))}, nil)
	body := make([]byte, 8+20)
	le.PutUint32(body, 6)
	le.PutUint32(body[4:], uint32(8+20+size+4))
	le.PutUint32(body[8+4:], 0)
	le.PutUint32(body[8+8:], uint32(1001e6))
	le.PutUint32(body[8+12:], uint32(size))
	le.PutUint32(body[8+16:], uint32(size))
	if err := gz(w, append(head, body...)); err != nil {
		return err
	}
	if err := zeros(w, size); err != nil {
		return err
	}
	tail := le.AppendUint32(nil, uint32(8+20+size+4))
	return gz(w, append(tail, EnhancedPacket(1002e6, Frame(3))...))
}

// repeat writes n copies of unit as gzip members of about a megabyte each, compressed once.
func repeat(w io.Writer, unit []byte, n int) error {
	per := max(1, zeroChunk/len(unit))
	var member bytes.Buffer
	if err := gz(&member, bytes.Repeat(unit, min(per, n))); err != nil {
		return err
	}
	for ; n >= per; n -= per {
		if _, err := w.Write(member.Bytes()); err != nil {
			return err
		}
	}
	if n > 0 {
		return gz(w, bytes.Repeat(unit, n))
	}
	return nil
}

// PcapngLongNames is a gzip pcapng with n interface descriptions named with nameLen bytes each, then a packet.
func PcapngLongNames(w io.Writer, n, nameLen int) error {
	if err := gz(w, SectionHeader()); err != nil {
		return err
	}
	if err := repeat(w, InterfaceDesc(strings.Repeat("n", nameLen)), n); err != nil {
		return err
	}
	return gz(w, EnhancedPacket(1000e6, Frame(1)))
}

// PcapngManySections is a gzip pcapng of n sections, each with one interface and one packet.
func PcapngManySections(w io.Writer, n int) error {
	return repeat(w, bytes.Join([][]byte{SectionHeader(), InterfaceDesc(""), EnhancedPacket(1000e6, Frame(1))}, nil), n)
}

// PcapngTimestampOverflow is a pcapng of three packets whose second has the largest timestamp (2^64-1
// microseconds, which overflows nanoseconds since 1970).
func PcapngTimestampOverflow(w io.Writer) error {
	_, err := w.Write(bytes.Join([][]byte{SectionHeader(), InterfaceDesc("eth0"), EnhancedPacket(1000e6, Frame(1)),
		EnhancedPacket(^uint64(0), Frame(2)), EnhancedPacket(1001e6, Frame(3))}, nil))
	return err
}

// FarFutureSec is the timestamp PcapFarFuture gives its middle frame: 2100-01-01.
const FarFutureSec = 4102444800

// PcapFarFuture is a pcap of five frames a second apart from 2023-11-14, but for the third, in the year 2100.
func PcapFarFuture(w io.Writer) error {
	b := PcapHeader(65535)
	for i := range uint32(5) {
		sec := 1700000000 + i
		if i == 2 {
			sec = FarFutureSec
		}
		b = append(b, PcapRecord(sec, 0, Frame(byte(i+1)))...)
	}
	_, err := w.Write(b)
	return err
}

// Rotated writes files rotated captures of frames frames each, one second apart and in time order over the
// set, through create (which opens the file of the given name).
func Rotated(files, frames int, create func(name string) (io.WriteCloser, error)) error {
	for f := range files {
		w, err := create(fmt.Sprintf("rot-%05d.pcap", f))
		if err != nil {
			return err
		}
		b := PcapHeader(65535)
		for i := range frames {
			b = append(b, PcapRecord(uint32(1700000000+f*frames+i), 0, Frame(byte(i)))...)
		}
		_, err = w.Write(b)
		if err := w.Close(); err != nil {
			return err
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RuleFiles are the rule files of the hostile set, by name.
func RuleFiles() []Case {
	return []Case{
		{"rules-one-line.json", func(w io.Writer) error { return RulesOneLineJSON(w, 4_000_000) }},
		{"rules-alias-fanout.yaml", func(w io.Writer) error { return RulesAliasFanout(w, 7, 10) }},
	}
}

// RulesOneLineJSON writes a rule table in JSON on one line of about size bytes: rows of one pattern each.
func RulesOneLineJSON(w io.Writer, size int) error {
	var b strings.Builder
	b.WriteString(`{"rules":[`)
	for i := 0; b.Len() < size-64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"pattern":"h%d.example.com","ports":"443"}`, i)
	}
	b.WriteString(`]}`)
	_, err := io.WriteString(w, b.String())
	return err
}

// RulesAliasFanout writes a small YAML rule table whose aliases multiply: a list of fan names, then levels
// lists each holding fan aliases of the list before, and one row whose patterns alias the last list, which
// stands for fan^(levels+1) patterns.
func RulesAliasFanout(w io.Writer, levels, fan int) error {
	var b strings.Builder
	b.WriteString("add_microsoft_suffixes: &l0 [")
	for i := range fan {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "s%d.example.com", i)
	}
	b.WriteString("]\nrules:\n")
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, "  - purpose: level %d\n    notes: &l%d [", l, l)
		for i := range fan {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", l-1)
		}
		b.WriteString("]\n")
	}
	fmt.Fprintf(&b, "  - patterns: *l%d\n    ports: \"443\"\n", levels)
	_, err := io.WriteString(w, b.String())
	return err
}
