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

// pcapRecords reads the packet records of a classic pcap file into a buffer of its own and returns each frame
// as a slice of it, valid until the next call: reading copies no packet byte after the read system call.
// (pcapgo's reader, which still checks the file header, copies every frame twice: through its own 4 KiB
// bufio.Reader into its packet buffer.) Its checks and errors are pcapgo's, except that a record header
// followed by none of its bytes is a truncated record, not the end of the file.
type pcapRecords struct {
	in        io.Reader // the source's buffered reader: once its buffer is drained, reads go straight to the file
	buf       []byte
	r, w      int   // the unread bytes are buf[r:w]
	err       error // the error that stopped reading in (io.EOF at the end), returned once buf[r:w] is used up
	bigEndian bool
	nsFactor  uint32 // 1000 for microsecond timestamps, 1 for nanosecond ones
	snaplen   uint32
	linkType  layers.LinkType
	big       []byte // frames too long for buf are read here
	done      int64  // bytes of the records returned so far
	// With retention on, buf is cur's and a refill moves the unread bytes to a new chunk instead of to the
	// front of buf, so frames returned earlier stay where they are while their chunk is held.
	chunks *chunkPool
	cur    *Chunk
	isBig  bool // the frame returned last is in big
}

// recordsBufferSize holds a whole read of the source's buffer (bufferSize, read without a copy when the space
// is at least that) after the unread tail of the largest ordinary record.
const recordsBufferSize = bufferSize + recordHeaderLen + maxEagerCapLen

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
	r := &pcapRecords{in: br, buf: make([]byte, recordsBufferSize), snaplen: pr.Snaplen(),
		linkType: pr.LinkType(), nsFactor: 1000, bigEndian: hdr[0] == 0xa1}
	if pr.Resolution() == gopacket.TimestampResolutionNanosecond {
		r.nsFactor = 1
	}
	return r, nil
}

// retain turns retention on: from now on, frames lie in chunks (chunk says which) that are not reused while
// held.
func (r *pcapRecords) retain() {
	if r.chunks != nil {
		return
	}
	r.chunks = &chunkPool{size: len(r.buf)}
	r.cur = r.chunks.get()
	r.w = copy(r.cur.buf, r.buf[r.r:r.w])
	r.r, r.buf = 0, r.cur.buf
}

// chunk is the chunk of the frame returned last, or nil when it does not lie in one (retention off, or a frame
// too long for a chunk).
func (r *pcapRecords) chunk() *Chunk {
	if r.isBig {
		return nil
	}
	return r.cur
}

// LinkType is the link type of every frame of the file.
func (r *pcapRecords) LinkType() layers.LinkType { return r.linkType }

// buffered is the number of bytes read from in and not yet returned.
func (r *pcapRecords) buffered() int { return r.w - r.r }

// ZeroCopyReadPacketData returns the next frame as pcapgo's readers do; its bytes are valid until the next call.
func (r *pcapRecords) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ts, wireLen, err := r.next()
	return data, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: wireLen}, err
}

// next returns the next frame, its timestamp and its length on the wire; its bytes are valid until the next
// call. After an error, recordOffset is where the record that could not be read begins.
func (r *pcapRecords) next() ([]byte, time.Time, int, error) {
	if r.w-r.r < recordHeaderLen && !r.fill(recordHeaderLen) {
		if r.w == r.r && errors.Is(r.err, io.EOF) {
			return nil, time.Time{}, 0, io.EOF
		}
		return nil, time.Time{}, 0, noEOF(r.err)
	}
	hdr := r.buf[r.r : r.r+recordHeaderLen]
	capLen, wireLen := int(r.u32(hdr[8:12])), int(r.u32(hdr[12:16]))
	if err := r.check(capLen, wireLen); err != nil {
		return nil, time.Time{}, 0, err
	}
	ts := time.Unix(int64(r.u32(hdr[0:4])), int64(r.u32(hdr[4:8])*r.nsFactor)).UTC()
	n := recordHeaderLen + capLen
	r.isBig = n > len(r.buf)
	if r.isBig {
		data, err := r.readBig(capLen)
		return data, ts, wireLen, err
	}
	if r.w-r.r < n && !r.fill(n) {
		return nil, time.Time{}, 0, noEOF(r.err)
	}
	start := r.r + recordHeaderLen
	r.r += n
	r.done += int64(n)
	return r.buf[start:r.r:r.r], ts, wireLen, nil
}

// recordOffset is the offset in the stream of the record next reads (or failed to read).
func (r *pcapRecords) recordOffset() int64 { return pcapHeaderLen + r.done }

// fill reads until buf holds n unread bytes (n <= len(buf)), moving the unread ones to the front first. It
// reports false when reading stopped before that (r.err says why).
func (r *pcapRecords) fill(n int) bool {
	if r.chunks != nil {
		if r.err != nil {
			return r.w-r.r >= n // nothing more will come: leave the retained bytes where they are
		}
		next := r.chunks.get()
		r.w = copy(next.buf, r.buf[r.r:r.w])
		r.r, r.buf = 0, next.buf
		r.cur.Release()
		r.cur = next
	} else if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	for r.w < n {
		if r.err != nil {
			return false
		}
		m, err := r.in.Read(r.buf[r.w:])
		r.w += m
		if err != nil {
			r.err = err
		}
	}
	return true
}

// u32 reads a header field in the file's byte order.
func (r *pcapRecords) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// check rejects the lengths pcapgo rejects, with its messages.
func (r *pcapRecords) check(capLen, wireLen int) error {
	if capLen < 0 || capLen > max(int(r.snaplen), maxEagerCapLen) {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", capLen, r.snaplen)
	}
	if capLen > wireLen {
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", capLen, wireLen)
	}
	return nil
}

// readBig reads a frame longer than buf into r.big, growing it only as bytes arrive, so a lying length in a
// short file cannot make the reader allocate gigabytes.
func (r *pcapRecords) readBig(capLen int) ([]byte, error) {
	r.r += recordHeaderLen
	have := min(r.w-r.r, capLen)
	b := bytes.NewBuffer(append(r.big[:0], r.buf[r.r:r.r+have]...))
	r.r += have
	if r.err == nil && have < capLen {
		if _, err := io.CopyN(b, r.in, int64(capLen-have)); err != nil {
			r.err = err
		}
	}
	r.big = b.Bytes()
	if len(r.big) < capLen {
		return nil, noEOF(r.err) // set: the bytes ran out
	}
	r.done += int64(recordHeaderLen + capLen)
	return r.big, nil
}

// noEOF turns an end of file inside a record into io.ErrUnexpectedEOF: the record was cut.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
