package main

import (
	"bufio"
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
)

// pcapRotator saves what live mode captured as pcapng, so a problem seen live can be replayed with analyze.
// Past maxBytes it starts a new file (NAME.1.pcapng, NAME.2.pcapng, ...) and keeps the newest keep files.
type pcapRotator struct {
	base     string
	maxBytes int64 // 0: one file, never rotated
	keep     int   // 0: keep every file
	iface    pcapgo.NgInterface

	file  *os.File
	ng    *pcapgo.NgWriter
	size  int64
	index int
	paths []string // files on disk, oldest first
	start time.Time
}

// newPcapRotator creates the first file at once, so a bad path fails before the capture starts.
func newPcapRotator(path string, maxBytes int64, keep int, name, bpf string, lt layers.LinkType, snap int) (*pcapRotator, error) {
	w := &pcapRotator{base: path, maxBytes: maxBytes, keep: keep, iface: pcapgo.NgInterface{
		Name: name, Filter: bpf, LinkType: lt, SnapLength: uint32(snap), TimestampResolution: 9,
		OS: runtime.GOOS}}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// fileName is the path of the index-th file: the name given, then NAME.1.EXT, NAME.2.EXT, ...
func (w *pcapRotator) fileName(index int) string {
	if index == 0 {
		return w.base
	}
	ext := filepath.Ext(w.base)
	return strings.TrimSuffix(w.base, ext) + "." + strconv.Itoa(index) + ext
}

func (w *pcapRotator) open() error {
	path := w.fileName(w.index)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write capture: %w", err)
	}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "intunecap live"}}
	ng, err := pcapgo.NewNgWriterInterface(bufio.NewWriterSize(f, 1<<20), w.iface, opts)
	if err != nil {
		f.Close()
		return fmt.Errorf("write capture %s: %w", path, err)
	}
	w.file, w.ng, w.size = f, ng, 0
	w.paths = append(w.paths, path)
	return nil
}

// write saves one frame, rotating first if the file is full.
func (w *pcapRotator) write(f *capture.Frame) error {
	if w.start.IsZero() {
		w.start = f.Timestamp
	}
	if w.maxBytes > 0 && w.size > 0 && w.size+int64(len(f.Data)) > w.maxBytes {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	ci := gopacket.CaptureInfo{Timestamp: f.Timestamp, CaptureLength: len(f.Data), Length: f.WireLen}
	if err := w.ng.WritePacket(ci, f.Data); err != nil {
		return fmt.Errorf("write capture %s: %w", w.file.Name(), err)
	}
	w.size += 32 + int64((len(f.Data)+3)&^3) // enhanced packet block
	return nil
}

// rotate closes the current file, opens the next and removes the oldest beyond keep.
func (w *pcapRotator) rotate() error {
	if err := w.closeFile(nil); err != nil {
		return err
	}
	w.index++
	if err := w.open(); err != nil {
		return err
	}
	for w.keep > 0 && len(w.paths) > w.keep {
		if err := os.Remove(w.paths[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate capture: %w", err)
		}
		w.paths = w.paths[1:]
	}
	return nil
}

// flush makes what was written so far readable by other programs (once a second in live mode).
func (w *pcapRotator) flush() error {
	if err := w.ng.Flush(); err != nil {
		return fmt.Errorf("write capture %s: %w", w.file.Name(), err)
	}
	return nil
}

// closeFile ends the current file, with libpcap's drop counters when known so analyze reports them too.
func (w *pcapRotator) closeFile(st *live.Stats) error {
	var errs []error
	if st != nil {
		errs = append(errs, w.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
			LastUpdate: time.Now(), StartTime: w.start,
			PacketsReceived: st.Received, PacketsDropped: st.Dropped + st.IfDropped}))
	}
	errs = append(errs, w.ng.Flush(), w.file.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write capture %s: %w", w.file.Name(), err)
	}
	return nil
}

// close ends the last file. st may be nil when the counters are unknown.
func (w *pcapRotator) close(st *live.Stats) error { return w.closeFile(st) }
