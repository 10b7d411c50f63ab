package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/capture/live"
	"github.com/intunecap/intunecap/metrics"
	"github.com/intunecap/intunecap/result"
)

// frameQueue is how many frames may wait between the capture and the analysis: enough to ride out a slow
// write, while the kernel's ring buffer absorbs longer bursts.
const frameQueue = 4096

// minFrameBuf is the smallest pooled frame buffer: one Ethernet frame, so most buffers are never regrown.
const minFrameBuf = 2048

// liveHandle is what live mode captures from: a libpcap handle, or a capture file in tests. Close may be
// called while Next blocks in another goroutine; Next then returns io.EOF.
type liveHandle interface {
	Next() (capture.Frame, error)
	Stats() (live.Stats, error)
	Close()
}

// liveSource is the analyze.Source of a live capture. A goroutine copies each frame out of the handle's
// buffer into a pooled one and queues it, so that a slow moment of the analysis does not stall libpcap; Next
// takes frames from that queue and, while none comes, returns the clock's ticks as quiet capture times. It
// stops at --count frames or when ctx is done; frames captured before then are still analysed.
type liveSource struct {
	h      liveHandle
	frames chan capture.Frame
	free   chan []byte
	errc   chan error
	tick   <-chan time.Time // wall-clock ticks, about once a second; nil: none (tests)
	done   <-chan struct{}
	limit  uint64 // stop after this many frames (--count); 0: no limit
	now    func() time.Time

	n        uint64
	cur      capture.Frame // the frame Next returned last; its buffer goes back to the pool on the next call
	lastTS   time.Time     // capture time of the latest frame
	lastWall time.Time     // wall time it was returned
}

func newLiveSource(ctx context.Context, h liveHandle, tick <-chan time.Time, limit uint64, now func() time.Time) *liveSource {
	s := &liveSource{h: h, frames: make(chan capture.Frame, frameQueue), free: make(chan []byte, frameQueue+2),
		errc: make(chan error, 1), tick: tick, done: ctx.Done(), limit: limit, now: now}
	go readFrames(h, s.frames, s.free, s.errc)
	return s
}

// Retain reports that frames are not kept in place: each buffer is reused once the next frame is taken.
func (s *liveSource) Retain() bool { return false }

// Next returns the next captured frame, or a quiet capture time on a tick of the clock with no frame.
func (s *liveSource) Next() (*capture.Frame, time.Time, error) {
	if s.cur.Data != nil {
		select {
		case s.free <- s.cur.Data:
		default:
		}
		s.cur.Data = nil
	}
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				return nil, time.Time{}, readErr(s.errc)
			}
			if s.limit > 0 && s.n >= s.limit {
				continue // captured after --count was reached, before the capture stopped
			}
			s.n++
			if s.limit > 0 && s.n == s.limit {
				s.h.Close()
			}
			s.cur, s.lastTS, s.lastWall = f, f.Timestamp, s.now()
			return &s.cur, time.Time{}, nil
		case now := <-s.tick:
			quiet := now
			if !s.lastTS.IsZero() {
				quiet = s.lastTS.Add(now.Sub(s.lastWall))
			}
			return nil, quiet, nil
		case <-s.done:
			s.done = nil
			s.h.Close() // frames already captured are still analysed, then frames closes
		}
	}
}

// stop ends the capture and waits for the reading goroutine, after a run that ended on an error.
func (s *liveSource) stop() {
	s.h.Close()
	for range s.frames {
	}
}

// readErr returns the reader's error, if it stopped on one.
func readErr(errc <-chan error) error {
	select {
	case err := <-errc:
		return err
	default:
		return io.EOF
	}
}

// readFrames copies each frame out of the handle's buffer into a pooled one and queues it. It closes out when
// the handle ends; a read error other than the end is sent on errc.
func readFrames(h liveHandle, out chan<- capture.Frame, free chan []byte, errc chan<- error) {
	defer close(out)
	for {
		f, err := h.Next()
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

// liveHooks are what live mode does beside the analysis, through analyze.Hooks: save and count each frame,
// and on each quiet tick make the saved file readable, check libpcap's drop counters and refresh the status.
type liveHooks struct {
	h       liveHandle
	writer  *pcapRotator     // nil without --write
	metrics *metrics.Metrics // nil without --metrics
	status  *liveSink        // counts and the status line
	iface   string
	link    string
	stats   live.Stats
	warn    func(format string, args ...any)
}

func (l *liveHooks) hooks() analyze.Hooks {
	return analyze.Hooks{Frame: l.frame, Quiet: l.quiet, Facts: l.facts}
}

// frame saves and counts one frame.
func (l *liveHooks) frame(f *capture.Frame) error {
	if l.writer != nil {
		if err := l.writer.write(f); err != nil {
			return err
		}
	}
	if l.metrics != nil {
		l.metrics.Packet(f.Timestamp, f.WireLen)
	}
	l.status.packets++
	return nil
}

// quiet saves the file so far, checks drops and refreshes the status, once the engine has caught up with
// the clock.
func (l *liveHooks) quiet(tracked int) error {
	if l.writer != nil {
		if err := l.writer.flush(); err != nil {
			return err
		}
	}
	l.checkDrops()
	if l.metrics != nil {
		l.metrics.SetFlowTable(tracked)
	}
	l.status.refresh()
	return nil
}

// checkDrops reads libpcap's counters and warns while the kernel is dropping packets.
func (l *liveHooks) checkDrops() {
	st, err := l.h.Stats()
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

// facts describes the capture for the summary: the interface and its drop counters.
func (l *liveHooks) facts() result.CaptureFacts {
	l.checkDrops()
	facts := result.CaptureFacts{Files: []string{"interface " + l.iface}, LinkTypes: []string{l.link}}
	facts.Quality.InterfaceDrops = l.stats.Dropped + l.stats.IfDropped
	if facts.Quality.InterfaceDrops > 0 {
		facts.Warnings = append(facts.Warnings, fmt.Sprintf("libpcap dropped %d packets (%d in the kernel buffer, "+
			"%d by the interface)", facts.Quality.InterfaceDrops, l.stats.Dropped, l.stats.IfDropped))
	}
	return facts
}

// runLive analyses src until it ends, then closes the --write file with the last drop counters.
func (l *liveHooks) run(src *liveSource, opts analyze.Options, sink result.Sink) error {
	runErr := analyze.Run(src, opts, sink, l.hooks())
	src.stop()
	var werr error
	if l.writer != nil {
		st := l.stats
		werr = l.writer.close(&st)
	}
	return errors.Join(runErr, werr)
}
