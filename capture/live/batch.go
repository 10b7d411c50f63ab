package live

import "github.com/intunecap/intunecap/capture"

// DefaultBatchFrames is how many frames a batch holds: at 500,000 packets a second, half a millisecond of
// traffic per hand-off to the analysis.
const DefaultBatchFrames = 256

// Batch is a run of frames copied out of the kernel's ring in one read, so that a capture goroutine hands
// them to the analysis with one channel operation rather than one per frame. Each frame's Data points into
// the batch's own buffer, valid until the batch is read into again.
type Batch struct {
	Frames  []capture.Frame
	buf     []byte
	snapLen int // the largest frame: a batch with less room than this is full
}

// NewBatch returns a batch of up to frames frames of at most snapLen bytes each.
func NewBatch(frames, snapLen int) *Batch {
	frames = max(frames, 1)
	size := max(frames*2048, 2*snapLen) // room for a batch of full Ethernet frames, and always for one snapLen
	return &Batch{Frames: make([]capture.Frame, 0, frames), buf: make([]byte, 0, size), snapLen: snapLen}
}

// Reset empties the batch for reuse; its old frames' bytes are no longer valid.
func (b *Batch) Reset() {
	clear(b.Frames) // drop the old frames' pointers into buf
	b.Frames, b.buf = b.Frames[:0], b.buf[:0]
}

// full reports whether the next frame might not fit.
func (b *Batch) full() bool {
	return len(b.Frames) == cap(b.Frames) || cap(b.buf)-len(b.buf) < b.snapLen
}

// Append copies frame f (its Data too) into the batch, for a source read a frame at a time; it reports
// false, keeping nothing, when the batch is full.
func (b *Batch) Append(f capture.Frame) bool {
	if b.full() {
		return false
	}
	b.add(f.Data, f)
	return true
}

// add copies data into the batch as frame f's bytes; a frame is at most snapLen bytes, so it always fits
// after full said no.
func (b *Batch) add(data []byte, f capture.Frame) {
	data = data[:min(len(data), b.snapLen)]
	start := len(b.buf)
	b.buf = append(b.buf, data...)
	f.Data = b.buf[start:len(b.buf):len(b.buf)]
	b.Frames = append(b.Frames, f)
}
