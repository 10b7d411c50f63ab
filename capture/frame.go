// Package capture reads packets from capture files (pcap, pcapng, gzip-compressed either) and merges several
// files into one time-ordered stream. It knows nothing about what the packets mean: decoding is analyze's job.
package capture

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured packet. Data is valid only until the next call to Next (zero-copy): a caller that keeps
// bytes must copy them, or hold the frame's Chunk.
type Frame struct {
	Data      []byte
	Timestamp time.Time
	WireLen   int // original length on the wire
	LinkType  layers.LinkType
	File      int    // index of the file in the set (0-based)
	Number    uint64 // 1-based frame number within its file (what Wireshark shows)
	Interface int    // pcapng interface index, counted over the whole file (0 for pcap)
	// Chunk, when not nil, holds Data: with Reader.Retain on, Data stays valid past the next call to Next for
	// as long as Chunk is held (Chunk.Retain, then Chunk.Release).
	Chunk *Chunk
}

// Warning is a non-fatal input problem: the reader kept what it could read and went on, but the user should
// know that part of a file was lost and where, so they can look at it with other tools.
type Warning struct {
	File   string // the file name as given to Open ("<stdin>" for "-")
	Frame  uint64 // the frame number that could not be read (the last good frame + 1)
	Offset int64  // byte offset of that frame's record, in the uncompressed stream
	Msg    string
}

// String gives the warning as one line for stderr.
func (w Warning) String() string {
	if w.Frame == 0 { // about a whole file, not a place in it; Msg names the file
		return w.Msg
	}
	return fmt.Sprintf("%s: frame %d (byte offset %d): %s", w.File, w.Frame, w.Offset, w.Msg)
}

// Stats describe what was read so far, for progress display and the report's capture facts.
type Stats struct {
	Frames     uint64
	BytesRead  int64             // bytes consumed from the files (compressed bytes for gzip), for progress
	BytesTotal int64             // sum of the file sizes; -1 when any size is unknown (standard input, pipes)
	LinkTypes  []layers.LinkType // distinct link types of the frames returned, in order of first appearance
	Files      []FileStats
}

// FileStats describe one file of the set.
type FileStats struct {
	Name       string
	Format     string // "pcap" (microsecond), "pcap-ns" (nanosecond) or "pcapng"
	Compressed bool   // gzip
	Frames     uint64
	BytesRead  int64
	BytesTotal int64 // -1 when unknown
	LinkTypes  []layers.LinkType
	Interfaces []Interface // pcapng interfaces, by file-wide index; empty for pcap
	Stopped    bool        // reading stopped early on an error; a Warning says where
}

// Interface is a pcapng interface description with the drop counters of its statistics blocks, so a report can
// say that the capture itself lost packets.
type Interface struct {
	Index      int // file-wide index (interface ids restart at 0 in every pcapng section)
	Name       string
	LinkType   layers.LinkType
	SnapLen    uint32
	DropsKnown bool   // an interface statistics block carried isb_ifdrop
	Dropped    uint64 // packets dropped by the interface (latest isb_ifdrop; the counter is cumulative)
	Received   uint64 // packets received by the interface (latest isb_ifrecv), 0 when unknown
}
