package capture

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// bufferSize is what one read system call asks for: large enough that system calls cost little (four per
// megabyte), small enough that the chunks in flight between the reader and the workers stay a few megabytes;
// each new chunk's pages are faulted in once, and chunks count toward the collector's first goal. 256 KiB
// read a 100 MB capture 12% faster than 1 MiB, and a 1 GiB one no slower.
const bufferSize = 256 << 10

// minBufferSize is the least buffer a small file gets.
const minBufferSize = 4 << 10

// stdinName names standard input in messages.
const stdinName = "<stdin>"

// countReader counts the bytes read through it: the raw count gives progress.
type countReader struct {
	r io.Reader
	n atomic.Int64 // read-ahead counts on its own goroutine while Stats reads
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// source is one open capture file with at most one frame read ahead (pending).
type source struct {
	index    int
	file     *os.File // nil for standard input
	raw      *countReader
	br       *bufio.Reader
	ng       *pcapngBlocks // nil for pcap
	recs     *pcapRecords  // nil for pcapng
	readSize int           // buffer size: bufferSize, or less for a small file or a crowd of open files
	pcapLT   layers.LinkType
	lastLT   layers.LinkType
	anyLT    bool
	pending  Frame
	number   uint64    // frames met in the file, skipped ones included (Frame.Number of the last)
	lastTime time.Time // timestamp of the frame read last
	prevTime time.Time // timestamp of the frame before it
	// timedFrames counts the frames whose timestamp checkJump saw.
	timedFrames uint64
	// lastJumped says the frame read last is far in time from the one before it (checkJump); lastNumber and
	// lastOff say where it is.
	lastJumped bool
	lastNumber uint64
	lastOff    int64
	notes      [noteKinds]uint64
	warn       *[]Warning // the reader's warnings, which this file's are appended to
	reopen     bool       // the pending frame is the first, read by Open (standard input in a set)
	done       bool       // read to its end by Open (standard input in a set, without a frame)
	stats      FileStats
}

// noOpen marks an error that is not about the file's content: it could not be opened or read at all.
type noOpen struct{ err error }

func (e noOpen) Error() string { return e.err.Error() }
func (e noOpen) Unwrap() error { return e.err }

// openSource opens path ("-" = standard input) and reads the file header, with read buffers of at most
// readSize bytes. An error that is not about the file's content (it cannot be opened or read) is a noOpen.
func openSource(path string, index int, readSize int, stdin io.Reader, warn *[]Warning) (*source, error) {
	s := &source{index: index, warn: warn, stats: FileStats{Name: path, BytesTotal: -1}}
	in := stdin
	if path == "-" {
		s.stats.Name = stdinName
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, noOpen{fmt.Errorf("open capture: %w", err)}
		}
		s.file, in = f, f
		fi, err := f.Stat()
		if err == nil && fi.IsDir() {
			f.Close()
			return nil, noOpen{fmt.Errorf("open capture %s: is a directory", path)}
		}
		if err == nil && fi.Mode().IsRegular() {
			s.stats.BytesTotal = fi.Size()
		}
	}
	if err := s.init(in, s.stats.BytesTotal, readSize); err != nil {
		s.close()
		return nil, fmt.Errorf("%s: %w", s.stats.Name, err)
	}
	return s, nil
}

// newSource reads the header of a capture held by any reader (fuzzing, and later other inputs).
func newSource(name string, index int, in io.Reader, warn *[]Warning) (*source, error) {
	s := &source{index: index, warn: warn, stats: FileStats{Name: name, BytesTotal: -1}}
	size := int64(-1)
	if l, ok := in.(interface{ Len() int }); ok { // bytes.Reader and the like: small inputs, small buffers
		size = int64(l.Len())
	}
	if err := s.init(in, size, bufferSize); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// init detects the format from the magic, unwrapping one layer of gzip, and reads the file header.
func (s *source) init(in io.Reader, size int64, readSize int) error {
	s.raw = &countReader{r: in}
	stream := io.Reader(s.raw)
	s.readSize = readSize
	if size >= 0 && size < int64(readSize) { // a small file needs no big buffers
		s.readSize = max(int(size), minBufferSize)
	}
	s.br = bufio.NewReaderSize(s.raw, s.readSize)
	magic, err := s.br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return noOpen{fmt.Errorf("read: %w", err)}
	}
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(s.br)
		if err != nil {
			return fmt.Errorf("read gzip header: %w", cleanErr{err})
		}
		s.stats.Compressed = true
		stream = gz
		s.readSize = readSize // the file's size says nothing of what it expands to
		s.br = bufio.NewReaderSize(stream, readSize)
		magic, _ = s.br.Peek(4)
	}
	switch format := detect(magic); format {
	case "pcap", "pcap-ns":
		s.stats.Format = format
		return s.initPcap(stream)
	case "pcapng":
		s.stats.Format = format
		return s.initPcapng()
	}
	return notCapture(magic)
}

// detect names the capture format of a file from its first four bytes, or returns "".
func detect(magic []byte) string {
	if len(magic) < 4 {
		return ""
	}
	be := uint32(magic[0])<<24 | uint32(magic[1])<<16 | uint32(magic[2])<<8 | uint32(magic[3])
	switch be {
	case 0xa1b2c3d4, 0xd4c3b2a1:
		return "pcap"
	case 0xa1b23c4d, 0x4d3cb2a1:
		return "pcap-ns"
	case 0x0a0d0d0a:
		return "pcapng"
	}
	return ""
}

func notCapture(magic []byte) error {
	if len(magic) == 0 {
		return fmt.Errorf("not a pcap or pcapng file (empty)")
	}
	return fmt.Errorf("not a pcap or pcapng file (magic % x)", magic)
}

func (s *source) initPcap(stream io.Reader) error {
	r, err := newPcapRecords(s.br, stream, s.readSize)
	if err != nil {
		return fmt.Errorf("read pcap header: %w", cleanErr{err})
	}
	s.recs, s.pcapLT = r, r.LinkType()
	s.pending.LinkType, s.pending.File = s.pcapLT, s.index
	return nil
}

func (s *source) initPcapng() error {
	r, err := newPcapngBlocks(s.br, &s.stats.Interfaces)
	if err != nil {
		return fmt.Errorf("read pcapng section header: %w", cleanErr{err})
	}
	s.ng = r
	return nil
}

// close closes the file (never standard input) and lets go of the buffers; the statistics stay.
func (s *source) close() error {
	if s.recs != nil {
		s.recs.close()
	}
	if s.raw != nil {
		s.stats.BytesRead = s.raw.n.Load()
	}
	s.br, s.ng, s.recs, s.pending.Data, s.pending.Chunk = nil, nil, nil, nil, nil
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}
