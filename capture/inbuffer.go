package capture

import (
	"encoding/binary"
	"time"
)

// readInBuffer is readPcap for the frames of nearly every file: a record that lies whole in the chunk read
// last, short enough not to be read as a big one, whose lengths pass check and whose timestamp is within
// maxTimestampJump of the frame before. s must have returned a frame already (its link type is noted, and
// lastTime is that frame's).
//
// A chunk never holds more unread bytes than its headroom (the tail carried in is part of one record, and a
// read adds at most readSize, which is the headroom), so a record that lies whole in it is no longer than the
// headroom: not a big one, and within the frame cap and the captured length check accepts whatever the
// snapshot length (maxHeadroom - recordHeaderLen = maxEagerCapLen = maxFrameLen). Only capLen > wireLen is
// left to check; TestReadInBufferAgainstReadPcap checks the bound on every frame. It reads such a record into s.pending and reports true; any
// other record (or the end of the chunk) it leaves unread and reports false, for readPcap, which handles
// every case. It does what readPcap does for these records, in one call instead of five (readNext, readPcap,
// next, check, checkJump): TestReadInBufferAgainstReadPcap holds the two to the same frames and warnings.
func (s *source) readInBuffer() bool {
	r := s.recs
	if r.w-r.r < recordHeaderLen {
		return false
	}
	hdr := r.buf[r.r : r.r+recordHeaderLen : r.r+recordHeaderLen]
	order := binary.ByteOrder(binary.LittleEndian)
	if r.bigEndian {
		order = binary.BigEndian
	}
	capLen, wireLen := order.Uint32(hdr[8:12]), order.Uint32(hdr[12:16])
	n := recordHeaderLen + int(capLen)
	if capLen > wireLen || n > r.w-r.r {
		return false
	}
	ts := time.Unix(int64(order.Uint32(hdr[0:4])), int64(order.Uint32(hdr[4:8]))*int64(r.nsFactor)).UTC()
	if far(ts, s.lastTime) {
		return false
	}
	start := r.r + recordHeaderLen
	r.r += n
	r.done += int64(n)
	r.isBig = false
	s.number++
	s.stats.Frames++
	s.timedFrames++
	s.lastTime, s.lastJumped = ts, false
	f := &s.pending
	f.Data, f.Timestamp, f.WireLen, f.Number = r.buf[start:r.r:r.r], ts, int(wireLen), s.number
	f.Chunk = nil
	if r.retained {
		f.Chunk = r.cur
	}
	return true
}
