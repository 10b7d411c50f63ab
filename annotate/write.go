package annotate

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxBlock caps one pcapng block (and one pcap record) that Write copies. Real blocks are a packet and a few
// options; a larger length field is damage or an attack, and Write stops with an error rather than buffer it.
const MaxBlock = 16 << 20

// Stats say what Write did.
type Stats struct {
	Packets   uint64 // packets copied, over all files
	Comments  uint64 // comments added
	Unplaced  uint64 // marks whose frame was a simple packet block (no room for options) or past the end
	Sections  int    // pcapng sections written (one per pcap file, as many as each pcapng file had)
	Truncated bool   // an input ended in the middle of a block: what came before it was written
}

// Write copies the input files, in order, to out as one pcapng stream, adding the marks as packet comments.
// Each pcap file becomes its own section (one interface, its link type and timestamp resolution); each pcapng
// file's sections are copied block for block, with the comments added to its enhanced packet blocks. Gzipped
// inputs are read through gzip. It reads each file once, front to back, holding one block at a time.
func Write(out io.Writer, files []string, marks *Marks) (Stats, error) {
	var st Stats
	bw := bufio.NewWriterSize(out, 1<<20)
	pending := marks.sorted()
	for i, name := range files {
		var here []Mark
		pending, here = splitFile(pending, i)
		if err := copyFile(bw, name, here, &st); err != nil {
			return st, fmt.Errorf("annotate %s: %w", name, err)
		}
	}
	st.Unplaced += uint64(len(pending))
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("write annotated capture: %w", err)
	}
	return st, nil
}

// splitFile takes the marks of file i off the front of the sorted list.
func splitFile(marks []Mark, i int) (rest, here []Mark) {
	n := 0
	for n < len(marks) && marks[n].File == i {
		n++
	}
	return marks[n:], marks[:n]
}

func copyFile(w *bufio.Writer, name string, marks []Mark, st *Stats) error {
	if name == "-" {
		return errors.New("standard input cannot be read twice; save the capture to a file first")
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return copyReader(w, f, marks, st)
}

// copyReader copies one capture file's stream.
func copyReader(w *bufio.Writer, r io.Reader, marks []Mark, st *Stats) error {
	in, err := unzip(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return err
	}
	q := &markQueue{marks: marks}
	magic, err := in.Peek(4)
	if err != nil {
		return fmt.Errorf("read file header: %w", noEOF(err))
	}
	switch {
	case isPcapng(magic):
		err = copyPcapng(w, in, q, st)
	case pcapOrder(magic) != nil:
		err = copyPcap(w, in, q, st)
	default:
		return fmt.Errorf("not a pcap or pcapng file (starts % x)", magic)
	}
	st.Unplaced += uint64(len(q.marks))
	return err
}

// unzip returns a reader of the decompressed stream when r starts with gzip's magic, else r itself.
func unzip(r *bufio.Reader) (*bufio.Reader, error) {
	magic, _ := r.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return r, nil
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read gzip header: %w", err)
	}
	return bufio.NewReaderSize(gz, 1<<20), nil
}

// markQueue hands out the marks of one file in frame order as the frames go by.
type markQueue struct {
	marks []Mark
}

// take returns the comments for frame and drops marks for earlier frames that were never met (there are none
// unless the engine and the file disagree, which Stats.Unplaced then shows).
func (q *markQueue) take(frame uint64, st *Stats) []string {
	for len(q.marks) > 0 && q.marks[0].Frame < frame {
		q.marks = q.marks[1:]
		st.Unplaced++
	}
	var out []string
	for len(q.marks) > 0 && q.marks[0].Frame == frame {
		out = append(out, q.marks[0].Text)
		q.marks = q.marks[1:]
	}
	return out
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
