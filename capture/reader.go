package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Reader reads frames from one file or a set of files merged by timestamp (stable: ties go to the file given
// first; frames of one file always keep their file order). It is not safe for concurrent use.
//
// A set is read with few files open: Open reads each file's header and first frame and closes it again, and
// a file is opened for good only when its first frame is due, and closed at its end. Rotated captures, whose
// times do not overlap, are read one file at a time; files whose times overlap are open together, up to
// maxOpenFiles.
type Reader struct {
	srcs     []*source // one per file read, in the order given
	firsts   []fileStart
	queue    []int // indices of files not opened yet, by their first frame's timestamp then file order
	heap     []int // indices of open files with a pending frame; heap[0] holds the earliest
	started  bool
	closed   bool
	retained bool
	noSolo   bool // tests: every frame through nextFrame, the reference readInBuffer is checked against
	// solo is the one file open when there is nothing to merge (one pcap file open, none waiting): NextFrame
	// reads its frames straight from its chunk (source.readInBuffer). Nil otherwise.
	solo     *source
	frames   uint64
	warnings []Warning
}

// fileStart is what Open learnt of a file of a set: when its first frame is, if it has one.
type fileStart struct {
	time     time.Time
	hasFrame bool
}

// Open opens the capture files and reads their headers. "-" is standard input and may appear once; globs are
// the caller's business. A file that cannot be opened or read is an error naming it, as is a single file that
// is not a capture (the user named the wrong file). In a set of several (rotated captures, where the last file
// is often empty or cut), a file whose content is not a capture becomes a Warning and is skipped; Open fails
// when none of them can be read. Damage inside a capture is a Warning later.
func Open(paths []string) (*Reader, error) {
	if len(paths) == 0 {
		return nil, errors.New("open capture: no files given")
	}
	if stdinCount(paths) > 1 {
		return nil, errors.New("open capture: standard input (-) given more than once")
	}
	r := &Reader{}
	if len(paths) == 1 {
		s, err := openSource(paths[0], 0, bufferSize, os.Stdin, &r.warnings)
		if err != nil {
			return nil, err
		}
		r.srcs, r.firsts, r.queue = []*source{s}, []fileStart{{}}, []int{0}
		return r, nil
	}
	var errs []error
	for _, p := range paths {
		s, first, err := r.probe(p, len(r.srcs))
		var unreadable noOpen
		if errors.As(err, &unreadable) {
			return nil, err
		}
		if err != nil {
			errs = append(errs, err)
			r.warnings = append(r.warnings, Warning{File: displayName(p), Msg: err.Error() + " (file skipped)"})
			continue
		}
		r.srcs, r.firsts = append(r.srcs, s), append(r.firsts, first)
		r.queue = append(r.queue, len(r.srcs)-1)
	}
	if len(r.srcs) == 0 {
		return nil, fmt.Errorf("open capture: none of the %d files could be read: %w", len(paths), errors.Join(errs...))
	}
	slices.SortStableFunc(r.queue, func(a, b int) int { return r.firsts[a].time.Compare(r.firsts[b].time) })
	return r, nil
}

// probe reads the header and the first frame of a file of a set, with small buffers, and closes it again
// (standard input, which cannot be opened twice, stays open). A file with no frame sorts first, so that its
// problems are reported before any frame is read.
func (r *Reader) probe(path string, index int) (*source, fileStart, error) {
	var ignored []Warning // the file's warnings come when it is read for good
	s, err := openSource(path, index, smallBufferSize, os.Stdin, &ignored)
	if err != nil {
		return nil, fileStart{}, err
	}
	var first fileStart
	if s.readNext() {
		first = fileStart{time: s.pending.Timestamp, hasFrame: true}
	}
	if path == "-" { // kept open: standard input cannot be read twice
		s.warn = &r.warnings
		s.reopen = first.hasFrame
		if !first.hasFrame { // read to its end already: its warnings are now, and nothing is left to read
			r.warnings = append(r.warnings, ignored...)
			s.done = true
			_ = s.close()
		}
		return s, first, nil
	}
	if err := s.close(); err != nil {
		return nil, fileStart{}, noOpen{fmt.Errorf("close capture %s: %w", path, err)}
	}
	return &source{index: index, stats: FileStats{Name: path, Format: s.stats.Format,
		Compressed: s.stats.Compressed, BytesTotal: s.stats.BytesTotal}}, first, nil
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
// call. A file of a set that can no longer be opened (removed since Open) is an error naming it.
func (r *Reader) NextFrame() (*Frame, error) {
	if s := r.solo; s != nil && s.readInBuffer() {
		r.frames++
		return &s.pending, nil
	}
	return r.nextFrame()
}

// nextFrame is NextFrame for every case: it merges the files in time order, opening each when its first frame
// is due.
func (r *Reader) nextFrame() (*Frame, error) {
	r.solo = nil
	if r.closed {
		return nil, errClosed
	}
	if r.started {
		r.advanceTop()
	}
	r.started = true
	if len(r.queue) > 0 {
		if err := r.openDue(); err != nil {
			return nil, err
		}
	}
	if len(r.heap) == 0 {
		return nil, io.EOF
	}
	r.frames++
	top := r.srcs[r.heap[0]]
	if len(r.heap) == 1 && len(r.queue) == 0 && top.recs != nil && !r.noSolo {
		r.solo = top
	}
	return &top.pending, nil
}

// openDue opens the files whose first frame comes before the earliest pending frame and reads that frame.
func (r *Reader) openDue() error {
	for len(r.queue) > 0 {
		i := r.queue[0]
		if len(r.heap) > 0 && !r.dueBefore(i, r.heap[0]) {
			return nil
		}
		r.queue = r.queue[1:]
		if err := r.openFile(i); err != nil {
			return err
		}
	}
	return nil
}

// dueBefore reports whether the first frame of file i, not opened yet, comes before the pending frame of j.
func (r *Reader) dueBefore(i, j int) bool {
	if c := r.firsts[i].time.Compare(r.srcs[j].pending.Timestamp); c != 0 || !r.firsts[i].hasFrame {
		return c < 0 || !r.firsts[i].hasFrame
	}
	return i < j
}

// openFile opens file i for good (unless it is open already) and reads its first frame.
func (r *Reader) openFile(i int) error {
	s := r.srcs[i]
	if s.done {
		return nil
	}
	if s.br == nil {
		if len(r.heap) >= maxOpenFiles {
			return fmt.Errorf("open capture %s: more than %d capture files overlap in time; merge some first (mergecap)",
				s.stats.Name, maxOpenFiles)
		}
		size := bufferSize
		if len(r.heap) >= fullBufferFiles {
			size = smallBufferSize
		}
		opened, err := openSource(s.stats.Name, i, size, os.Stdin, &r.warnings)
		if err != nil { // removed or replaced since Open read its header: the error names it
			return err
		}
		r.srcs[i], s = opened, opened
	}
	if s.recs != nil {
		if r.retained {
			s.recs.retain()
		}
		if len(r.srcs) == 1 && runtime.GOMAXPROCS(0) > 1 {
			s.recs.readAhead()
		}
	}
	if s.reopen { // standard input in a set: its first frame was read by Open
		s.reopen = false
	} else if !r.read(s) {
		return nil
	}
	r.heap = append(r.heap, i)
	r.up(len(r.heap) - 1)
	return nil
}

// advanceTop replaces the frame returned last (at the top of the heap) with the next one of its file, and
// closes the file at its end.
func (r *Reader) advanceTop() {
	if len(r.heap) == 0 {
		return
	}
	if len(r.heap) == 1 { // one file open: no merging
		if !r.read(r.srcs[r.heap[0]]) {
			r.heap = r.heap[:0]
		}
		return
	}
	if !r.read(r.srcs[r.heap[0]]) {
		last := len(r.heap) - 1
		r.heap[0] = r.heap[last]
		r.heap = r.heap[:last]
	}
	r.down(0)
}

// read reads the next frame of s, closing it at its end.
func (r *Reader) read(s *source) bool {
	if s.readNext() {
		return true
	}
	if err := s.close(); err != nil {
		r.warnings = append(r.warnings, Warning{File: s.stats.Name, Msg: fmt.Sprintf("close %s: %v", s.stats.Name, err)})
	}
	return false
}

// less orders by timestamp, then by file order, so equal timestamps keep a stable order.
func (r *Reader) less(a, b int) bool {
	if c := r.srcs[a].pending.Timestamp.Compare(r.srcs[b].pending.Timestamp); c != 0 {
		return c < 0
	}
	return a < b
}

func (r *Reader) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !r.less(r.heap[i], r.heap[parent]) {
			return
		}
		r.heap[i], r.heap[parent] = r.heap[parent], r.heap[i]
		i = parent
	}
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
func (r *Reader) Retain() { r.retained = true }

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
	r.closed, r.solo = true, nil
	var first error
	for _, s := range r.srcs {
		if err := s.close(); err != nil && first == nil {
			first = fmt.Errorf("close %s: %w", s.stats.Name, err)
		}
	}
	return first
}
