package capture

import (
	"encoding/binary"
	"math/bits"
	"time"
)

// readInBuffer is readPcap for the frames of nearly every file: a record that lies whole in the chunk read
// last, whose lengths pass check and whose timestamp is within maxTimestampJump of the frame before. It reads
// such a record into s.pending and reports true; any other record (or the end of the chunk) it leaves unread
// and reports false, for readPcap, which handles every case. It does what readPcap does for these records in
// one call instead of five (readNext, readPcap, next, check, checkJump); TestReadInBufferAgainstReadPcap
// holds the two to the same frames, warnings and statistics. s must have returned a frame already (its link
// type is noted, and lastTime is that frame's).
//
// A chunk never holds more unread bytes than its headroom (the tail carried in is part of one record, and a
// read adds at most readSize, which is the headroom), so a record that lies whole in it is no longer than the
// headroom: not a big one, within the frame cap, and of a captured length that check accepts whatever the
// snapshot length (maxHeadroom - recordHeaderLen = maxEagerCapLen = maxFrameLen). Only capLen > wireLen is
// left to check; the test checks the bound on every frame.
func (s *source) readInBuffer() bool {
	r := s.recs
	if r.w-r.r < recordHeaderLen {
		return false
	}
	hdr := r.buf[r.r : r.r+recordHeaderLen : r.r+recordHeaderLen]
	sec, frac := binary.LittleEndian.Uint32(hdr[0:4]), binary.LittleEndian.Uint32(hdr[4:8])
	capLen, wireLen := binary.LittleEndian.Uint32(hdr[8:12]), binary.LittleEndian.Uint32(hdr[12:16])
	if r.bigEndian {
		sec, frac = bits.ReverseBytes32(sec), bits.ReverseBytes32(frac)
		capLen, wireLen = bits.ReverseBytes32(capLen), bits.ReverseBytes32(wireLen)
	}
	n := recordHeaderLen + int(capLen)
	if capLen > wireLen || n > r.w-r.r {
		return false
	}
	ts := time.Unix(int64(sec), int64(frac)*int64(r.nsFactor)).UTC()
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
