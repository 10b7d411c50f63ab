package capture

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/gopacket/gopacket/layers"
)

// Reader reads frames from one file or a set of files merged by timestamp (stable: ties go to the file given
// first; frames of one file always keep their file order). It is not safe for concurrent use.
type Reader struct {
	srcs     []*source
	heap     []int // indices of sources with a pending frame; heap[0] holds the earliest
	started  bool
	closed   bool
	frames   uint64
	warnings []Warning
}

// Open opens the capture files and reads their headers. "-" is standard input and may appear once; globs are
// the caller's business. A single file that cannot be opened or is not a capture is an error (the user named
// the wrong file). In a set of several (rotated captures, where the last file is often empty or cut), such a
// file becomes a Warning and is skipped; Open fails only when none of them can be read. Damage inside a
// capture is a Warning later.
func Open(paths []string) (*Reader, error) {
	if len(paths) == 0 {
		return nil, errors.New("open capture: no files given")
	}
	if stdinCount(paths) > 1 {
		return nil, errors.New("open capture: standard input (-) given more than once")
	}
	r := &Reader{}
	var errs []error
	for i, p := range paths {
		s, err := openSource(p, i)
		if err != nil {
			errs = append(errs, err)
			r.warnings = append(r.warnings, Warning{File: displayName(p), Msg: err.Error() + " (file skipped)"})
			continue
		}
		r.srcs = append(r.srcs, s)
	}
	if len(paths) == 1 && len(errs) == 1 {
		return nil, errs[0]
	}
	if len(r.srcs) == 0 {
		return nil, fmt.Errorf("open capture: none of the %d files could be read: %w", len(paths), errors.Join(errs...))
	}
	return r, nil
}

// displayName is how a path is named in messages.
func displayName(path string) string {
	if path == "-" {
		return "<stdin>"
	}
	return path
}

func stdinCount(paths []string) int {
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
	}
	return n
}

// Next returns the next frame in time order, or io.EOF when every file is done. Its Data stays valid until the
// next call: a file is advanced only on the call after its frame was returned.
func (r *Reader) Next() (Frame, error) {
	f, err := r.NextFrame()
	if err != nil {
		return Frame{}, err
	}
	return *f, nil
}

// NextFrame is Next without copying the frame: the Frame itself, not only its Data, is valid until the next
// call.
func (r *Reader) NextFrame() (*Frame, error) {
	if r.closed {
		return nil, errClosed
	}
	if !r.started {
		r.start()
	} else if len(r.heap) == 1 { // one file left: no merging
		if !r.read(r.srcs[r.heap[0]]) {
			r.heap = r.heap[:0]
		}
	} else if len(r.heap) > 0 {
		r.advanceTop()
	}
	if len(r.heap) == 0 {
		return nil, io.EOF
	}
	r.frames++
	return &r.srcs[r.heap[0]].pending, nil
}

// start reads the first frame of every file. A single pcap file is read ahead on a goroutine of its own, so
// its read system calls run beside the analysis, when there is another core to run them (GOMAXPROCS above 1:
// on one core the goroutine would only add switches); a set of files is read in the caller's goroutine, so
// that many files do not mean many buffers.
func (r *Reader) start() {
	r.started = true
	if len(r.srcs) == 1 && r.srcs[0].recs != nil && runtime.GOMAXPROCS(0) > 1 {
		r.srcs[0].recs.readAhead()
	}
	for i, s := range r.srcs {
		if r.read(s) {
			r.heap = append(r.heap, i)
		}
	}
	for i := len(r.heap)/2 - 1; i >= 0; i-- {
		r.down(i)
	}
}

// advanceTop replaces the frame returned last (at the top of the heap) with the next one of its file.
func (r *Reader) advanceTop() {
	if !r.read(r.srcs[r.heap[0]]) {
		last := len(r.heap) - 1
		r.heap[0] = r.heap[last]
		r.heap = r.heap[:last]
	}
	r.down(0)
}

func (r *Reader) read(s *source) bool {
	ok, w := s.readNext()
	if w != nil {
		r.warnings = append(r.warnings, *w)
	}
	return ok
}

// less orders by timestamp, then by file order, so equal timestamps keep a stable order.
func (r *Reader) less(a, b int) bool {
	if c := r.srcs[a].pending.Timestamp.Compare(r.srcs[b].pending.Timestamp); c != 0 {
		return c < 0
	}
	return a < b
}

func (r *Reader) down(i int) {
	h := r.heap
	for {
		min, left := i, 2*i+1
		if left < len(h) && r.less(h[left], h[min]) {
			min = left
		}
		if right := left + 1; right < len(h) && r.less(h[right], h[min]) {
			min = right
		}
		if min == i {
			return
		}
		h[i], h[min] = h[min], h[i]
		i = min
	}
}

// Retain makes the frames of pcap files lie in chunks that are not reused while held (Frame.Chunk), so that a
// caller can hand frames to other goroutines without copying them. Frames of pcapng files still have no Chunk.
// Call it before the first Next.
func (r *Reader) Retain() {
	for _, s := range r.srcs {
		if s.recs != nil {
			s.recs.retain()
		}
	}
}

// Warnings returns the non-fatal problems met so far, in the order they were met.
func (r *Reader) Warnings() []Warning {
	return append([]Warning(nil), r.warnings...)
}

// Stats returns what was read so far; the result is a copy the caller may keep.
func (r *Reader) Stats() Stats {
	st := Stats{Frames: r.frames}
	for _, s := range r.srcs {
		fs := s.snapshot()
		st.BytesRead += fs.BytesRead
		if fs.BytesTotal < 0 || st.BytesTotal < 0 {
			st.BytesTotal = -1
		} else {
			st.BytesTotal += fs.BytesTotal
		}
		st.LinkTypes = mergeLinkTypes(st.LinkTypes, fs.LinkTypes)
		st.Files = append(st.Files, fs)
	}
	return st
}

func mergeLinkTypes(all, more []layers.LinkType) []layers.LinkType {
outer:
	for _, lt := range more {
		for _, seen := range all {
			if seen == lt {
				continue outer
			}
		}
		all = append(all, lt)
	}
	return all
}

// Close closes every file (never standard input). Next returns an error afterwards.
func (r *Reader) Close() error {
	r.closed = true
	var first error
	for _, s := range r.srcs {
		if err := s.close(); err != nil && first == nil {
			first = fmt.Errorf("close %s: %w", s.stats.Name, err)
		}
	}
	return first
}
