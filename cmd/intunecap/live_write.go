package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/capture/live"
	"github.com/intunecap/intunecap/metrics"
)

// writeBuffer is how many bytes of whole pcapng blocks wait in memory before one write to the file.
const writeBuffer = 1 << 20

// writeRetry is how long --write waits after a failed write before it tries a new file.
const writeRetry = 5 * time.Second

// pcapRotator saves what live mode captured as pcapng, so a problem seen live can be replayed with analyze.
// Past maxBytes it starts a new file (NAME.1.pcapng, NAME.2.pcapng, ...) and keeps the newest keep files.
//
// A failed write (a full disk, a quota, an I/O error) never stops the analysis: the file is cut back to its
// last whole block and closed, so what it holds stays readable; the failure is said once; frames are counted
// as not written, at no cost per frame beyond a comparison; every writeRetry a new file is tried. Writing has
// resumed, and says so, once frames have reached that file: a disk with room for a header but not for the
// frames is the same failure going on, not a new one, so a nearly full disk does not fill the log.
type pcapRotator struct {
	base     string
	maxBytes int64 // 0: one file, never rotated
	keep     int   // 0: keep every file
	iface    pcapgo.NgInterface

	file   *os.File
	ng     *pcapgo.NgWriter
	buf    blockBuffer // whole blocks not yet in the file
	onDisk int64       // bytes of the file written, always a whole number of blocks
	queued uint64      // frames in buf
	inFile uint64      // frames in the current file, written or buffered
	index  int         // index of the next file to create
	paths  []string    // files on disk, oldest first
	start  time.Time

	failed   error     // the write error that stopped writing; nil while writing
	trial    bool      // a new file was opened after a failure; no frame has reached it yet
	header   int64     // bytes of the current file's header
	retryAt  time.Time // earliest time to try a new file while failed
	dropped  uint64    // frames not written since the failure began
	lost     uint64    // frames not written in all
	warn     func(format string, args ...any)
	metrics  *metrics.Metrics
	now      func() time.Time
	reported bool // the current failure has been said
}

// blockBuffer collects the pcapng writer's output in memory; the rotator writes it to the file itself, so it
// knows where each write begins and can cut a short write back to a block boundary.
type blockBuffer struct{ b []byte }

func (b *blockBuffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

// newPcapRotator creates the first file at once, so a bad path fails before the capture starts. A file that
// is created but cannot take its header (a full disk) is not an error: the rotator starts failed and retries.
func newPcapRotator(path string, maxBytes int64, keep int, name, bpf string, lt layers.LinkType, snap int) (*pcapRotator, error) {
	w := &pcapRotator{base: path, maxBytes: maxBytes, keep: keep, iface: pcapgo.NgInterface{
		Name: name, Filter: bpf, LinkType: lt, SnapLength: uint32(snap), TimestampResolution: 9,
		OS: runtime.GOOS}, buf: blockBuffer{b: make([]byte, 0, writeBuffer+64<<10)}, now: time.Now,
		warn: func(string, ...any) {}}
	if err := w.open(); err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) && pathErr.Op == "open" {
			return nil, err
		}
		w.fail(err, w.now())
		w.reported = false // said by report, once there is somewhere to say it
	}
	return w, nil
}

// report sets where the rotator says a failure and its end, and the metrics that count what was not written.
// A failure met before (creating the first file) is said now.
func (w *pcapRotator) report(m *metrics.Metrics, warn func(format string, args ...any)) {
	w.metrics, w.warn = m, warn
	if m != nil {
		m.SetWriteOK(w.failed == nil)
		if w.failed != nil {
			m.WriteFailed()
		}
	}
	if w.failed != nil && !w.reported {
		w.sayFailed()
	}
}

// fileName is the path of the index-th file: the name given, then NAME.1.EXT, NAME.2.EXT, ...
func (w *pcapRotator) fileName(index int) string {
	if index == 0 {
		return w.base
	}
	ext := filepath.Ext(w.base)
	return strings.TrimSuffix(w.base, ext) + "." + strconv.Itoa(index) + ext
}

// open creates the next file and writes its header at once, so that every file on disk is a readable pcapng.
// A file that cannot take its header is removed, and its index is used by the next try.
func (w *pcapRotator) open() error {
	path := w.fileName(w.index)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write capture: %w", err)
	}
	w.buf.b = w.buf.b[:0]
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "intunecap live"}}
	ng, err := pcapgo.NewNgWriterInterface(&w.buf, w.iface, opts)
	if err == nil {
		err = ng.Flush()
	}
	if err == nil {
		_, err = f.Write(w.buf.b)
	}
	if err != nil {
		if st, serr := f.Stat(); serr == nil && st.Mode().IsRegular() {
			os.Remove(path) // a file without its header is no capture; never remove a device such as /dev/full
		}
		f.Close()
		return writeErr(path, err)
	}
	w.file, w.ng, w.onDisk, w.queued, w.inFile = f, ng, int64(len(w.buf.b)), 0, 0
	w.header = w.onDisk
	w.buf.b = w.buf.b[:0]
	w.paths = append(w.paths, path)
	w.index++
	return nil
}

// writeErr wraps an error writing path; the file system's errors already name the file.
func writeErr(path string, err error) error {
	if pathErr := (*os.PathError)(nil); errors.As(err, &pathErr) {
		return fmt.Errorf("write capture: %w", err)
	}
	return fmt.Errorf("write capture %s: %w", path, err)
}

// write saves one frame, rotating first if the file is full. While writing is failed it only counts the
// frame, and tries a new file once the frame's capture time passes the retry time.
func (w *pcapRotator) write(f *capture.Frame) error {
	if w.start.IsZero() {
		w.start = f.Timestamp
	}
	if w.failed != nil {
		if f.Timestamp.Before(w.retryAt) || !w.resume(f.Timestamp) {
			w.drop(1)
			return nil
		}
	}
	size := int64(32 + (len(f.Data)+3)&^3) // an enhanced packet block without options
	if w.maxBytes > 0 && w.inFile > 0 && w.onDisk+int64(len(w.buf.b))+size > w.maxBytes {
		if !w.rotate(f.Timestamp) {
			w.drop(1)
			return nil
		}
	}
	ci := gopacket.CaptureInfo{Timestamp: f.Timestamp, CaptureLength: len(f.Data), Length: f.WireLen}
	if err := w.ng.WritePacket(ci, f.Data); err != nil {
		return fmt.Errorf("write capture %s: %w", w.file.Name(), err) // only a bad frame: buf takes every byte
	}
	w.ng.Flush() // into buf: it cannot fail, and buf then ends on a block boundary
	w.queued++
	w.inFile++
	if len(w.buf.b) >= writeBuffer {
		w.writeOut(f.Timestamp)
	}
	return nil
}

// writeOut writes the buffered blocks to the file. A short or failed write is cut back to the last whole
// block, the file is closed and the rotator fails; it reports whether the blocks were written.
func (w *pcapRotator) writeOut(now time.Time) bool {
	if len(w.buf.b) == 0 {
		return true
	}
	n, err := w.file.Write(w.buf.b)
	if err == nil {
		w.onDisk += int64(n)
		w.buf.b, w.queued = w.buf.b[:0], 0
		if w.trial {
			w.resumed()
		}
		return true
	}
	if n > 0 {
		if terr := w.file.Truncate(w.onDisk); terr != nil {
			err = errors.Join(err, fmt.Errorf("cut back to %d bytes: %w", w.onDisk, terr))
		}
	}
	w.fail(writeErr(w.file.Name(), err), now)
	return false
}

// fail closes the current file (cut back to its whole blocks; removed if that leaves no frame), drops what
// was buffered and starts waiting. A failure in a trial file goes on with the failure before it, silently.
func (w *pcapRotator) fail(err error, now time.Time) {
	if w.file != nil {
		w.file.Close() // what it holds is whole blocks: readable
		// A file with no frame in it is removed, and its name is the next one tried.
		if w.onDisk <= w.header {
			os.Remove(w.file.Name())
			w.paths = w.paths[:len(w.paths)-1]
			w.index--
		}
		w.file, w.ng = nil, nil
	}
	w.failed, w.retryAt = err, now.Add(writeRetry)
	if !w.trial {
		w.dropped = 0
	}
	w.drop(w.queued)
	w.buf.b, w.queued = w.buf.b[:0], 0
	if w.trial {
		w.trial = false
		return
	}
	if w.metrics != nil {
		w.metrics.WriteFailed()
		w.metrics.SetWriteOK(false)
	}
	w.sayFailed()
}

// sayFailed is the one line a failure prints.
func (w *pcapRotator) sayFailed() {
	w.warn("%v; analysis goes on, packets are not written until a new file can be written (tried every %s)",
		w.failed, writeRetry)
	w.reported = true
}

// drop counts n frames that were not written.
func (w *pcapRotator) drop(n uint64) {
	w.dropped += n
	w.lost += n
	if w.metrics != nil && n > 0 {
		w.metrics.WriteDropped(n)
	}
}

// resume tries a new file after a failure, as a trial until frames reach it; it reports whether the file
// could be opened.
func (w *pcapRotator) resume(now time.Time) bool {
	if err := w.open(); err != nil {
		w.retryAt = now.Add(writeRetry)
		return false
	}
	w.failed, w.trial = nil, true
	return true
}

// resumed ends a trial: frames reached the new file.
func (w *pcapRotator) resumed() {
	w.warn("writing again to %s; %d packets were not written", w.file.Name(), w.dropped)
	w.trial, w.dropped = false, 0
	if w.metrics != nil {
		w.metrics.SetWriteOK(true)
	}
	w.prune()
}

// rotate closes the current file, opens the next and removes the oldest beyond keep. It reports whether
// writing goes on.
func (w *pcapRotator) rotate(now time.Time) bool {
	if !w.writeOut(now) {
		return false
	}
	if err := w.file.Close(); err != nil {
		w.fail(writeErr(w.file.Name(), err), now)
		return false
	}
	w.file = nil
	if err := w.open(); err != nil {
		w.fail(err, now)
		return false
	}
	w.prune()
	return true
}

// prune removes the oldest files beyond keep. A file that cannot be removed is said and forgotten.
func (w *pcapRotator) prune() {
	for w.keep > 0 && len(w.paths) > w.keep {
		if err := os.Remove(w.paths[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.warn("rotate capture: %v", err)
		}
		w.paths = w.paths[1:]
	}
}

// flush makes what was written so far readable by other programs (once a second in live mode), and while
// writing is failed tries a new file when the retry time has passed.
func (w *pcapRotator) flush() error {
	now := w.now()
	if w.failed != nil {
		if !now.Before(w.retryAt) {
			w.resume(now)
		}
		return nil
	}
	w.writeOut(now)
	return nil
}

// close ends the last file, with libpcap's drop counters when known (st may be nil) so analyze reports them
// too, and says how many frames were not written in all.
func (w *pcapRotator) close(st *live.Stats) error {
	now := w.now()
	if w.failed == nil && st != nil {
		w.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
			LastUpdate: now, StartTime: w.start,
			PacketsReceived: st.Received, PacketsDropped: st.Dropped + st.IfDropped})
		w.ng.Flush()
	}
	if w.failed == nil && w.writeOut(now) {
		if err := w.file.Close(); err != nil {
			return writeErr(w.file.Name(), err)
		}
		w.file = nil
	}
	if w.lost > 0 {
		w.warn("%d packets were not written to %s (see the messages above)", w.lost, w.base)
	}
	return nil
}
