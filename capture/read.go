package capture

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// noteKind is a kind of problem a file may have many times over; each kind is reported maxNotesPerKind times
// one by one, then counted.
type noteKind int

const (
	noteOverCap   noteKind = iota // a frame over the frame cap, skipped
	noteTimeRange                 // a timestamp out of range, replaced by the one before it
	noteTimeJump                  // a frame alone in time, far from the frames around it
	noteKinds
)

// noteNames say what the notes of each kind counted, for the last warning.
var noteNames = [noteKinds]string{
	noteOverCap:   "frames over the frame cap skipped",
	noteTimeRange: "frames with a timestamp out of range (each given the timestamp of the frame before it)",
	noteTimeJump:  "frames with an absurd timestamp, more than 30 days from the frames around them",
}

// readNext reads the next frame of s into s.pending. It returns false at the end of the file, or when the file
// cannot be read further, with a warning: a damaged file loses its tail, never the frames before it.
func (s *source) readNext() bool {
	for {
		var ok, again bool
		if s.recs != nil {
			ok, again = s.readPcap()
		} else {
			ok, again = s.readPcapng()
		}
		if !again {
			return ok
		}
	}
}

// readPcap is readNext for a pcap file, whose frames all have the file's link type. It returns again=true
// when it skipped a frame.
func (s *source) readPcap() (ok, again bool) {
	off := s.recs.recordOffset()
	data, ts, wireLen, err := s.recs.next()
	if err != nil {
		var over frameOverCap
		if errors.As(err, &over) {
			s.number++
			s.note(noteOverCap, off, err.Error())
			return false, true
		}
		s.stop(err, off)
		return false, false
	}
	s.number++
	s.stats.Frames++
	if !s.anyLT {
		s.noteLinkType(s.pcapLT)
	}
	f := &s.pending // LinkType and File are the file's, set once (initPcap)
	f.Data, f.Timestamp, f.WireLen = data, s.checkJump(ts, off), wireLen
	f.Number, f.Chunk = s.number, s.recs.chunk()
	return true, false
}

// readPcapng is readNext for a pcapng file.
func (s *source) readPcapng() (ok, again bool) {
	fr, err := s.ng.next()
	off := s.ng.blockStart
	if err != nil {
		s.stop(err, off)
		return false, false
	}
	s.number++
	if fr.data == nil {
		s.note(noteOverCap, off, overCapMsg(fr))
		return false, true
	}
	s.stats.Frames++
	if !s.anyLT || fr.lt != s.lastLT {
		s.noteLinkType(fr.lt)
	}
	ts := fr.ts
	switch {
	case fr.tsErr == nil:
		ts = s.checkJump(ts, off)
	case errors.Is(fr.tsErr, errNoTimestamp): // a simple packet block: no timestamp, the one before it stands
		ts = s.timeBefore()
	default:
		s.note(noteTimeRange, off, fr.tsErr.Error()+"; the frame is given the timestamp of the frame before it")
		ts = s.timeBefore()
	}
	s.pending = Frame{Data: fr.data, Timestamp: ts, WireLen: fr.wireLen, LinkType: fr.lt, File: s.index,
		Number: s.number, Interface: fr.iface}
	return true, false
}

// timeBefore is the timestamp of the frame before, for a frame without one: 1970-01-01 for the first.
func (s *source) timeBefore() time.Time {
	if s.timedFrames == 0 {
		return time.Unix(0, 0).UTC()
	}
	return s.lastTime
}

// overCapMsg says why a pcapng packet block was skipped.
func overCapMsg(fr ngFrame) string {
	if fr.capLen < 0 {
		return fmt.Sprintf("pcapng packet block is over the %d-byte block cap; frame skipped", maxBlockLen)
	}
	return frameOverCap{int64(fr.capLen)}.Error()
}

// checkJump remembers ts and notes the frame before it when that frame lies alone in time: more than
// maxTimestampJump from the frames on both sides of it (or from its one neighbour, first in the file). Such a
// frame has an absurd timestamp, which would stretch every duration that spans it. A file that jumps once
// and stays (captures joined end to end) passes.
func (s *source) checkJump(ts time.Time, off int64) time.Time {
	jumped := true // the first frame has no neighbour before it
	if s.timedFrames > 0 {
		jumped = far(ts, s.lastTime)
		if jumped && s.lastJumped {
			s.noteAt(noteTimeJump, s.lastNumber, s.lastOff, loneMsg(s.lastTime, ts))
		}
	}
	if jumped { // what stop and the next frame's check read only after a jump
		s.prevTime, s.lastNumber, s.lastOff = s.lastTime, s.number, off
	}
	s.timedFrames++
	s.lastTime, s.lastJumped = ts, jumped
	return ts
}

// far reports whether a and b are more than maxTimestampJump apart.
func far(a, b time.Time) bool {
	d := a.Unix() - b.Unix()
	return d > int64(maxTimestampJump/time.Second) || -d > int64(maxTimestampJump/time.Second)
}

// loneMsg describes a frame at ts whose neighbour is at other.
func loneMsg(ts, other time.Time) string {
	days, dir := ts.Unix()/86400-other.Unix()/86400, "after"
	if days < 0 {
		days, dir = -days, "before"
	}
	return fmt.Sprintf("absurd timestamp %s: %d days %s the frames around it (%s); durations that span it are wrong",
		ts.Format(time.RFC3339Nano), days, dir, other.Format(time.RFC3339Nano))
}

// note reports a problem of kind k at the current frame: one by one up to maxNotesPerKind, then counted.
func (s *source) note(k noteKind, off int64, msg string) { s.noteAt(k, s.number, off, msg) }

// noteAt is note for the given frame.
func (s *source) noteAt(k noteKind, frame uint64, off int64, msg string) {
	s.notes[k]++
	if s.notes[k] <= maxNotesPerKind {
		*s.warn = append(*s.warn, Warning{File: s.stats.Name, Frame: frame, Offset: off, Msg: msg})
	}
}

// stop ends reading the file on err: silently at its end, else with a warning saying where. Either way the
// counted notes and skipped sections are reported.
func (s *source) stop(err error, off int64) {
	if !errors.Is(err, io.EOF) {
		s.stats.Stopped = true
		*s.warn = append(*s.warn, Warning{File: s.stats.Name, Frame: s.number + 1, Offset: off,
			Msg: describe(err) + "; rest of file skipped"})
	}
	if s.timedFrames > 1 && s.lastJumped { // the last frame is far from the one before it
		s.noteAt(noteTimeJump, s.lastNumber, s.lastOff, loneMsg(s.lastTime, s.prevTime))
	}
	for k, n := range s.notes {
		if n > maxNotesPerKind {
			*s.warn = append(*s.warn, Warning{File: s.stats.Name,
				Msg: fmt.Sprintf("%s: %d more %s", s.stats.Name, n-maxNotesPerKind, noteNames[k])})
		}
	}
	if s.ng != nil && s.ng.oddVersion > 0 {
		*s.warn = append(*s.warn, Warning{File: s.stats.Name,
			Msg: fmt.Sprintf("%s: %d pcapng sections of an unknown version (not 1.0) skipped", s.stats.Name, s.ng.oddVersion)})
	}
}

func (s *source) noteLinkType(lt layers.LinkType) {
	s.lastLT, s.anyLT = lt, true
	for _, seen := range s.stats.LinkTypes {
		if seen == lt {
			return
		}
	}
	s.stats.LinkTypes = append(s.stats.LinkTypes, lt)
}

// snapshot returns a copy of the file's statistics that the caller may keep.
func (s *source) snapshot() FileStats {
	fs := s.stats
	if s.br != nil { // open: the count is still moving
		fs.BytesRead = s.raw.n.Load()
	}
	fs.LinkTypes = append([]layers.LinkType(nil), s.stats.LinkTypes...)
	fs.Interfaces = append([]Interface(nil), s.stats.Interfaces...)
	return fs
}
