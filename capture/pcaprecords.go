package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapHeaderLen and recordHeaderLen are the sizes of a pcap file header and of a packet record header.
const (
	pcapHeaderLen   = 24
	recordHeaderLen = 16
)

// maxEagerCapLen is the largest captured length accepted whatever the snapshot length says, as pcapgo does
// (some writers put a small snaplen in the header and longer packets in the records).
const maxEagerCapLen = 262144

// pcapRecords reads the packet records of a classic pcap file straight out of the source's buffered reader. A
// frame is a slice of that buffer, valid until the next call, so reading copies no packet byte after the
// read system call. (pcapgo's reader, which still checks the file header, copies every frame twice: through its
// own 4 KiB bufio.Reader into its packet buffer.) Its checks and errors are pcapgo's, except that a record
// header followed by none of its bytes is a truncated record, not the end of the file.
type pcapRecords struct {
	br        *bufio.Reader
	bigEndian bool
	nsFactor  uint32 // 1000 for microsecond timestamps, 1 for nanosecond ones
	snaplen   uint32
	linkType  layers.LinkType
	big       []byte // frames too long for br's buffer are read here
}

// newPcapRecords reads the file header from br and checks it with pcapgo.
func newPcapRecords(br *bufio.Reader) (*pcapRecords, error) {
	hdr, _ := br.Peek(pcapHeaderLen) // a short header fails in pcapgo below, with its error
	pr, err := pcapgo.NewReader(bytes.NewReader(hdr))
	if err != nil {
		return nil, err
	}
	if _, err := br.Discard(pcapHeaderLen); err != nil {
		return nil, err
	}
	r := &pcapRecords{br: br, snaplen: pr.Snaplen(), linkType: pr.LinkType(), nsFactor: 1000,
		bigEndian: hdr[0] == 0xa1}
	if pr.Resolution() == gopacket.TimestampResolutionNanosecond {
		r.nsFactor = 1
	}
	return r, nil
}

// LinkType is the link type of every frame of the file.
func (r *pcapRecords) LinkType() layers.LinkType { return r.linkType }

// ZeroCopyReadPacketData returns the next frame; its bytes are valid until the next call.
func (r *pcapRecords) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	hdr, err := r.br.Peek(recordHeaderLen)
	if err != nil {
		if len(hdr) == 0 && errors.Is(err, io.EOF) {
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
		return nil, gopacket.CaptureInfo{}, noEOF(err)
	}
	ci := r.captureInfo(hdr)
	if err := r.check(ci); err != nil {
		return nil, ci, err
	}
	n := recordHeaderLen + ci.CaptureLength
	if n > r.br.Size() {
		data, err := r.readBig(ci.CaptureLength)
		return data, ci, err
	}
	rec, err := r.br.Peek(n)
	if err != nil {
		return nil, ci, noEOF(err)
	}
	_, _ = r.br.Discard(n) // n bytes are buffered: Discard moves past them and keeps rec's bytes in place
	return rec[recordHeaderLen:n:n], ci, nil
}

// captureInfo decodes a record header.
func (r *pcapRecords) captureInfo(hdr []byte) gopacket.CaptureInfo {
	sec, frac, capLen, wireLen := r.u32(hdr[0:4]), r.u32(hdr[4:8]), r.u32(hdr[8:12]), r.u32(hdr[12:16])
	return gopacket.CaptureInfo{
		Timestamp:     time.Unix(int64(sec), int64(frac*r.nsFactor)).UTC(),
		CaptureLength: int(capLen),
		Length:        int(wireLen),
	}
}

// u32 reads a header field in the file's byte order.
func (r *pcapRecords) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// check rejects the lengths pcapgo rejects, with its messages.
func (r *pcapRecords) check(ci gopacket.CaptureInfo) error {
	if ci.CaptureLength < 0 || ci.CaptureLength > max(int(r.snaplen), maxEagerCapLen) {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", ci.CaptureLength, r.snaplen)
	}
	if ci.CaptureLength > ci.Length {
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", ci.CaptureLength, ci.Length)
	}
	return nil
}

// readBig reads a frame longer than the buffer into r.big, growing it only as bytes arrive, so a lying length
// in a short file cannot make the reader allocate gigabytes.
func (r *pcapRecords) readBig(capLen int) ([]byte, error) {
	if _, err := r.br.Discard(recordHeaderLen); err != nil {
		return nil, noEOF(err)
	}
	buf := bytes.NewBuffer(r.big[:0])
	_, err := io.CopyN(buf, r.br, int64(capLen))
	r.big = buf.Bytes()
	if err != nil {
		return nil, noEOF(err) // CopyN reports io.EOF when the file ends first
	}
	return r.big, nil
}

// noEOF turns an end of file inside a record into io.ErrUnexpectedEOF: the record was cut.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
