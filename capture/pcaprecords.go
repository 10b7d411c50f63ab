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

// pcapRecords reads the packet records of a classic pcap file into chunks of its own and returns each frame as
// a slice of a chunk: reading copies no packet byte after the read system call, except the few bytes of the
// record cut by the end of a chunk. (pcapgo's reader, which still checks the file header, copies every frame
// twice: through its own 4 KiB bufio.Reader into its packet buffer.) Its checks and errors are pcapgo's, except
// that a record header followed by none of its bytes is a truncated record, not the end of the file.
//
// Each chunk keeps headroom in front of the data read into it: the unread tail of the previous chunk (at most
// one record) is copied there, so a record is always contiguous. A frame stays valid until the next call, or,
// with retention on, for as long as its chunk is held. With read-ahead on, a goroutine of its own fills the next
// chunks while frames of the current one are processed, so the read system calls run beside the analysis.
type pcapRecords struct {
	in        io.Reader // what the source's buffered reader held, then the file (or gzip stream) itself
	cur       *Chunk
	buf       []byte // cur.buf
	r, w      int    // the unread bytes are buf[r:w]
	err       error  // the error that stopped reading in (io.EOF at the end), returned once buf[r:w] is used up
	bigEndian bool
	nsFactor  uint32 // 1000 for microsecond timestamps, 1 for nanosecond ones
	snaplen   uint32
	linkType  layers.LinkType
	headroom  int    // bytes in front of each chunk's data, for the tail of the chunk before
	big       []byte // frames longer than the headroom are read here
	isBig     bool   // the frame returned last is in big
	done      int64  // bytes of the records returned so far
	chunks    *chunkPool
	retained  bool        // frames are handed out with their chunk (Frame.Chunk)
	ahead     chan filled // read-ahead: chunks filled by the reading goroutine; nil without read-ahead
	stop      chan struct{}
}

// filled is a chunk the read-ahead goroutine filled: data at buf[headroom:headroom+n], then err.
type filled struct {
	c   *Chunk
	n   int
	err error
}

// maxHeadroom holds the unread tail of the previous chunk: at most one record that is not read as a big one.
const maxHeadroom = recordHeaderLen + maxEagerCapLen

// readAheadDepth is how many filled chunks may wait for the consumer.
const readAheadDepth = 2

// newPcapRecords reads the file header from br and checks it with pcapgo. The records are read from what br
// holds, then from under, the reader br reads from: chunks are filled by reads straight from the file, never
// through br's buffer, readSize bytes at a time (a small file gets small chunks).
func newPcapRecords(br *bufio.Reader, under io.Reader, readSize int) (*pcapRecords, error) {
	hdr, _ := br.Peek(pcapHeaderLen) // a short header fails in pcapgo below, with its error
	pr, err := pcapgo.NewReader(bytes.NewReader(hdr))
	if err != nil {
		return nil, err
	}
	if _, err := br.Discard(pcapHeaderLen); err != nil {
		return nil, err
	}
	held, _ := br.Peek(br.Buffered())
	held = bytes.Clone(held)
	_, _ = br.Discard(len(held))
	r := &pcapRecords{in: io.MultiReader(bytes.NewReader(held), under), snaplen: pr.Snaplen(),
		linkType: pr.LinkType(), nsFactor: 1000, bigEndian: hdr[0] == 0xa1}
	r.headroom = min(maxHeadroom, max(readSize, recordHeaderLen))
	r.chunks = &chunkPool{size: r.headroom + readSize, hot: r.headroom}
	if pr.Resolution() == gopacket.TimestampResolutionNanosecond {
		r.nsFactor = 1
	}
	r.cur = r.chunks.get()
	r.buf, r.r, r.w = r.cur.buf, r.headroom, r.headroom
	return r, nil
}

// retain turns retention on: from now on, frames come with their chunk (chunk says which), which is not reused
// while held.
func (r *pcapRecords) retain() { r.retained = true }

// readAhead starts the goroutine that fills chunks ahead of the consumer. close stops it.
func (r *pcapRecords) readAhead() {
	if r.ahead != nil || r.err != nil {
		return
	}
	ahead, stop := make(chan filled, readAheadDepth), make(chan struct{})
	r.ahead, r.stop = ahead, stop
	go func() { // uses only the channels and what fillChunk reads, none of which the consumer changes
		defer close(ahead)
		for {
			f := r.fillChunk()
			select {
			case ahead <- f:
			case <-stop:
				f.c.Release()
				return
			}
			if f.err != nil {
				return
			}
		}
	}()
}

// close tells the read-ahead goroutine, if any, to stop. It does not wait: the goroutine may be blocked
// reading a pipe that never ends. Once the file is closed its next read fails, and it exits.
func (r *pcapRecords) close() {
	if r.ahead == nil {
		return
	}
	close(r.stop)
	r.ahead = nil
}

// fillChunk reads the next chunk's worth from in.
func (r *pcapRecords) fillChunk() filled {
	c := r.chunks.get()
	data := c.buf[r.headroom:]
	n := 0
	for n < len(data) {
		m, err := r.in.Read(data[n:])
		n += m
		if err != nil {
			return filled{c: c, n: n, err: err} // io.EOF at the end; a truncated gzip stream says so itself
		}
	}
	return filled{c: c, n: n}
}

// nextChunk returns the next filled chunk, from the read-ahead goroutine or read now.
func (r *pcapRecords) nextChunk() filled {
	if r.ahead == nil {
		return r.fillChunk()
	}
	f, ok := <-r.ahead
	if !ok {
		return filled{c: r.chunks.get(), err: io.ErrClosedPipe}
	}
	return f
}

// LinkType is the link type of every frame of the file.
func (r *pcapRecords) LinkType() layers.LinkType { return r.linkType }

// chunk is the chunk of the frame returned last when retention is on, else nil (also for a frame read into
// big, which is reused).
func (r *pcapRecords) chunk() *Chunk {
	if !r.retained || r.isBig {
		return nil
	}
	return r.cur
}

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
	ts := time.Unix(int64(r.u32(hdr[0:4])), int64(r.u32(hdr[4:8]))*int64(r.nsFactor)).UTC()
	if capLen > maxFrameLen {
		return nil, ts, wireLen, r.skip(capLen)
	}
	n := recordHeaderLen + capLen
	r.isBig = n > r.headroom
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

// fill moves on to following chunks until n bytes (n <= headroom) are unread, carrying the unread tail
// into each new chunk's headroom. It reports false when the file ended or failed first (r.err says which).
func (r *pcapRecords) fill(n int) bool {
	for r.w-r.r < n {
		if r.err != nil {
			return false
		}
		f := r.nextChunk()
		tail := r.buf[r.r:r.w]
		start := r.headroom - len(tail)
		copy(f.c.buf[start:], tail)
		r.cur.Release()
		r.cur, r.buf, r.r, r.w = f.c, f.c.buf, start, r.headroom+f.n
		r.err = f.err
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

// readBig reads a frame longer than the headroom (and at most maxFrameLen) into r.big, growing it only as
// bytes arrive.
func (r *pcapRecords) readBig(capLen int) ([]byte, error) {
	r.r += recordHeaderLen
	b := bytes.NewBuffer(r.big[:0])
	for b.Len() < capLen {
		take := min(r.w-r.r, capLen-b.Len())
		b.Write(r.buf[r.r : r.r+take])
		r.r += take
		if b.Len() < capLen && !r.fill(1) {
			break
		}
	}
	r.big = b.Bytes()
	if len(r.big) < capLen {
		return nil, noEOF(r.err) // set: the bytes ran out
	}
	r.done += int64(recordHeaderLen + capLen)
	return r.big, nil
}

// frameOverCap is a frame longer than maxFrameLen, which was read past without being held.
type frameOverCap struct{ capLen int64 }

func (e frameOverCap) Error() string {
	return fmt.Sprintf("frame of %d bytes is over the %d-byte frame cap; frame skipped", e.capLen, maxFrameLen)
}

// skip reads past a record whose frame is over maxFrameLen and returns frameOverCap, or the error that cut it.
func (r *pcapRecords) skip(capLen int) error {
	r.r += recordHeaderLen
	for left := capLen; ; {
		take := min(r.w-r.r, left)
		r.r += take
		left -= take
		if left == 0 {
			break
		}
		if !r.fill(1) {
			return noEOF(r.err)
		}
	}
	r.done += int64(recordHeaderLen + capLen)
	return frameOverCap{int64(capLen)}
}

// noEOF turns an end of file inside a record into io.ErrUnexpectedEOF: the record was cut.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
