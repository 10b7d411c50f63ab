package capture

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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

// packetReader is what pcapgo's pcap and pcapng readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// countReader counts the bytes read through it: the raw count gives progress, the stream count gives the
// byte offsets in warnings.
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
	stream   *countReader // the uncompressed stream (raw itself when not compressed)
	br       *bufio.Reader
	pr       packetReader
	ng       *pcapgo.NgReader // nil for pcap
	recs     *pcapRecords     // nil for pcapng
	readSize int              // buffer size: bufferSize, or less for a small file
	pcapLT   layers.LinkType
	ifBase   int // file-wide index of the current pcapng section's interface 0
	lastLT   layers.LinkType
	anyLT    bool
	pending  Frame
	stats    FileStats
}

// openSource opens path ("-" = standard input) and reads the file header.
func openSource(path string, index int) (*source, error) {
	s := &source{index: index, stats: FileStats{Name: path, BytesTotal: -1}}
	var in io.Reader = os.Stdin
	if path == "-" {
		s.stats.Name = stdinName
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open capture: %w", err)
		}
		s.file, in = f, f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			s.stats.BytesTotal = fi.Size()
		}
	}
	if err := s.init(in, s.stats.BytesTotal); err != nil {
		s.close()
		return nil, fmt.Errorf("%s: %w", s.stats.Name, err)
	}
	return s, nil
}

// newSource reads the header of a capture held by any reader (fuzzing, and later other inputs).
func newSource(name string, index int, in io.Reader) (*source, error) {
	s := &source{index: index, stats: FileStats{Name: name, BytesTotal: -1}}
	size := int64(-1)
	if l, ok := in.(interface{ Len() int }); ok { // bytes.Reader and the like: small inputs, small buffers
		size = int64(l.Len())
	}
	if err := s.init(in, size); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// init detects the format from the magic, unwrapping one layer of gzip, and creates the pcapgo reader.
func (s *source) init(in io.Reader, size int64) error {
	s.raw = &countReader{r: in}
	s.stream = s.raw
	s.readSize = bufferSize
	if size >= 0 && size < bufferSize { // a small file needs no megabyte buffers (rotated sets have many)
		s.readSize = max(int(size), minBufferSize)
	}
	s.br = bufio.NewReaderSize(s.raw, s.readSize)
	magic, _ := s.br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(s.br)
		if err != nil {
			return fmt.Errorf("read gzip header: %w", cleanErr{err})
		}
		s.stats.Compressed = true
		s.stream = &countReader{r: gz}
		s.readSize = bufferSize // the file's size says nothing of what it expands to
		s.br = bufio.NewReaderSize(s.stream, bufferSize)
		magic, _ = s.br.Peek(4)
	}
	switch format := detect(magic); format {
	case "pcap", "pcap-ns":
		s.stats.Format = format
		return s.initPcap()
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

func (s *source) initPcap() error {
	r, err := newPcapRecords(s.br, s.stream, s.readSize)
	if err != nil {
		return fmt.Errorf("read pcap header: %w", cleanErr{err})
	}
	s.pr, s.recs, s.pcapLT = r, r, r.LinkType()
	s.pending.LinkType, s.pending.File = s.pcapLT, s.index
	return nil
}

func (s *source) initPcapng() error {
	opts := pcapgo.NgReaderOptions{
		WantMixedLinkType:  true,
		SkipUnknownVersion: true,
		SectionEndCallback: s.sectionEnd,
		StatisticsCallback: s.interfaceStats,
	}
	r, err := pcapgo.NewNgReader(s.br, opts)
	if err != nil {
		return fmt.Errorf("read pcapng section header: %w", cleanErr{err})
	}
	s.pr, s.ng = r, r
	return nil
}

// offset is the position of the next unread byte in the uncompressed stream (pcapng: pcap records say
// their own offset, recordOffset).
func (s *source) offset() int64 { return s.stream.n.Load() - int64(s.br.Buffered()) }

func (s *source) close() error {
	if s.recs != nil {
		s.recs.close()
	}
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}
