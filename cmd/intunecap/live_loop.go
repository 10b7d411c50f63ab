package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/capture/live"
	"github.com/intunecap/intunecap/metrics"
)

// frameQueue is how many frames may wait between the capture and the analysis: enough to ride out a slow
// write, while the kernel's ring buffer absorbs longer bursts.
const frameQueue = 4096

// minFrameBuf is the smallest pooled frame buffer: one Ethernet frame, so most buffers are never regrown.
const minFrameBuf = 2048

// frameSource is what the live loop reads: a libpcap handle, or a capture file in tests. Close may be called
// while Next blocks in another goroutine; Next then returns io.EOF.
type frameSource interface {
	Next() (capture.Frame, error)
	Stats() (live.Stats, error)
	Close()
}

// liveLoop owns the engine: one goroutine feeds it frames and clock ticks, so the engine is never shared.
type liveLoop struct {
	src     frameSource
	eng     *analyze.Engine
	dec     *decode.Decoder
	pkt     decode.Packet
	writer  *pcapRotator     // nil without --write
	metrics *metrics.Metrics // nil without --metrics
	status  *liveSink        // counts and the status line
	limit   uint64           // stop after this many frames (--count); 0: no limit

	frames   uint64
	lastTS   time.Time // capture time of the latest frame
	lastWall time.Time // wall time it was processed
	stats    live.Stats
	warn     func(format string, args ...any)
	now      func() time.Time
}

// run reads frames until ctx is done, --count is reached or the source ends, with a tick every second so that
// verdicts that wait on time (unanswered SYNs, DNS timeouts, closed connections) come while the wire is quiet.
func (l *liveLoop) run(ctx context.Context, tick <-chan time.Time) error {
	frames := make(chan capture.Frame, frameQueue)
	free := make(chan []byte, frameQueue+2)
	errc := make(chan error, 1)
	go readFrames(l.src, frames, free, errc)
	done := ctx.Done()
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return readErr(errc)
			}
			err := l.frame(&f)
			select {
			case free <- f.Data:
			default:
			}
			if err != nil {
				l.src.Close()
				for range frames {
				}
				return err
			}
		case now := <-tick:
			if err := l.tick(now); err != nil {
				l.src.Close()
				for range frames {
				}
				return err
			}
		case <-done:
			done = nil
			l.src.Close() // frames already captured are still analyzed, then frames closes
		}
	}
}

// readErr returns the reader's error, if it stopped on one.
func readErr(errc <-chan error) error {
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// readFrames copies each frame out of the source's buffer into a pooled one and queues it. It closes out when
// the source ends; a read error other than the end is sent on errc.
func readFrames(src frameSource, out chan<- capture.Frame, free chan []byte, errc chan<- error) {
	defer close(out)
	for {
		f, err := src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				errc <- err
			}
			return
		}
		var buf []byte
		select {
		case buf = <-free:
		default:
		}
		if cap(buf) < len(f.Data) {
			buf = make([]byte, 0, max(len(f.Data), minFrameBuf))
		}
		f.Data = append(buf[:0], f.Data...)
		out <- f
	}
}

// frame saves, counts, decodes and analyzes one frame.
func (l *liveLoop) frame(f *capture.Frame) error {
	if l.limit > 0 && l.frames >= l.limit {
		return nil // captured after --count was reached, before the capture stopped
	}
	l.frames++
	l.lastTS, l.lastWall = f.Timestamp, l.now()
	if l.writer != nil {
		if err := l.writer.write(f); err != nil {
			return err
		}
	}
	if l.metrics != nil {
		l.metrics.Packet(f.Timestamp, f.WireLen)
	}
	l.status.packets++
	if l.limit > 0 && l.frames == l.limit {
		l.src.Close()
	}
	if err := l.dec.Decode(f, &l.pkt); err != nil {
		l.eng.Undecodable(f)
		return nil
	}
	if l.pkt.Fragment {
		l.eng.Held(f, &l.pkt) // held by the decoder until the datagram is whole
		return nil
	}
	return l.eng.Packet(f, &l.pkt)
}

// tick moves the engine's clock to the capture time of now, saves the file so far, and checks drops.
func (l *liveLoop) tick(now time.Time) error {
	capTime := now
	if !l.lastTS.IsZero() {
		capTime = l.lastTS.Add(now.Sub(l.lastWall))
	}
	if err := l.eng.Advance(capTime); err != nil {
		return err
	}
	if l.writer != nil {
		if err := l.writer.flush(); err != nil {
			return err
		}
	}
	l.checkDrops()
	if l.metrics != nil {
		l.metrics.SetFlowTable(l.eng.Tracked())
	}
	l.status.refresh()
	return nil
}

// checkDrops reads libpcap's counters and warns while the kernel is dropping packets.
func (l *liveLoop) checkDrops() {
	st, err := l.src.Stats()
	if err != nil {
		return
	}
	if lost := (st.Dropped + st.IfDropped) - (l.stats.Dropped + l.stats.IfDropped); lost > 0 {
		l.status.clear()
		l.warn("warning: %d packets dropped in the last second (%d in all): verdicts may be missing; "+
			"narrow the capture with --bpf", lost, st.Dropped+st.IfDropped)
	}
	l.stats = st
	l.status.drops = st.Dropped + st.IfDropped
	if l.metrics != nil {
		l.metrics.SetDrops(st.Dropped, st.IfDropped)
	}
}

// finish reports what is still open and writes the summary, with the interface and its drop counters.
func (l *liveLoop) finish(iface, linkType string) error {
	l.checkDrops()
	facts := analyze.CaptureFacts{Files: []string{"interface " + iface}, LinkTypes: []string{linkType}}
	facts.Quality.InterfaceDrops = l.stats.Dropped + l.stats.IfDropped
	if facts.Quality.InterfaceDrops > 0 {
		facts.Warnings = append(facts.Warnings, fmt.Sprintf("libpcap dropped %d packets (%d in the kernel buffer, "+
			"%d by the interface)", facts.Quality.InterfaceDrops, l.stats.Dropped, l.stats.IfDropped))
	}
	var werr error
	if l.writer != nil {
		st := l.stats
		werr = l.writer.close(&st)
	}
	return errors.Join(l.eng.Finish(facts), werr)
}
