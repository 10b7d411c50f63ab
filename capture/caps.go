package capture

import "time"

// The caps below bound what a capture file can make the reader hold, whatever its headers claim: a small
// gzip-compressed file can expand to gigabytes of a single frame or of blocks. docs/reliability.md lists them
// with what happens when one is reached.
const (
	// maxFrameLen is the longest frame kept, in bytes: libpcap's largest snapshot length (MAXIMUM_SNAPLEN)
	// and Wireshark's standard maximum packet size. A longer frame is skipped without being held (its bytes
	// are read past), counted and reported; reading goes on with the next frame.
	maxFrameLen = 262144

	// maxBlockLen is the longest pcapng block that is held to be parsed: section headers, interface
	// descriptions, interface statistics and packet blocks. A longer packet block is skipped like a frame
	// over maxFrameLen; a longer block of another of these types stops reading the file. Blocks of other
	// types (name resolution, decryption secrets, custom blocks) are read past whatever their length, never
	// held.
	maxBlockLen = 1 << 20

	// maxInterfaces is the most pcapng interface descriptions a file may hold, over all its sections; one
	// more stops reading the file.
	maxInterfaces = 4096

	// maxSections is the most pcapng section headers a file may hold; one more stops reading the file.
	maxSections = 4096

	// maxInterfaceNameLen is the longest interface name kept (if_name); a longer one is cut at a UTF-8
	// boundary. No other interface option is kept.
	maxInterfaceNameLen = 256

	// maxTimestampJump is the largest step in time between two frames of a file that passes without a
	// warning: a frame further from the one before it (forwards or backwards) is reported, since one frame
	// with an absurd timestamp stretches every duration computed from the capture.
	maxTimestampJump = 30 * 24 * time.Hour

	// maxNotesPerKind is how many warnings of one kind (a frame skipped over the frame cap, a timestamp out of
	// range, a jump in time) one file reports one by one; the rest are counted in a last warning at its end.
	maxNotesPerKind = 3

	// maxOpenFiles is the most capture files of a set held open at once. Files are opened in time order,
	// each when its first frame is due, and closed at their end, so rotated captures are read one at a time;
	// only files whose times overlap are open together. One more than this is an error.
	maxOpenFiles = 256

	// fullBufferFiles is how many open files of a set get read buffers of full size; files opened while this
	// many are open get small buffers, so that many overlapping files do not mean many megabytes each.
	fullBufferFiles = 4

	// smallBufferSize is the read buffer of a file opened while fullBufferFiles are open, and of a file whose
	// header and first frame are read when the reader opens a set.
	smallBufferSize = 16 << 10
)

// maxUnixSeconds is the latest timestamp a frame may have, in seconds after 1970: the last second whose
// nanoseconds fit an int64 (year 2262), so that every difference of two frame times fits a time.Duration.
// Timestamps before 1970 cannot be written in pcap and are taken as out of range in pcapng too.
const maxUnixSeconds = (1<<63-1)/1_000_000_000 - 1
