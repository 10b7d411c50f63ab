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

// batchQueue is how many batches of frames (live.DefaultBatchFrames each) may wait between the capture and
// the analysis: enough to ride out a slow write, while the kernel's ring buffer absorbs longer bursts.
const batchQueue = 16

// liveHandle is what live mode captures from: a live.Handle, or a capture file in tests. Close may be called
// while a read blocks in another goroutine; the read then returns io.EOF.
type liveHandle interface {
	Next() (capture.Frame, error)
	Stats() (live.Stats, error)
	Close()
}

// batchReader reads frames a batch at a time, copied out of the capture's buffer (live.Handle.ReadBatch).
type batchReader interface {
	ReadBatch(b *live.Batch) error
}

// batches is how h is read: in batches when it can (a live.Handle), else a frame a batch.
func batches(h liveHandle) batchReader {
	if r, ok := h.(batchReader); ok {
		return r
	}
	return frameAtATime{h}
}

// frameAtATime reads a handle that returns one frame at a time into batches of one.
type frameAtATime struct{ h liveHandle }

func (r frameAtATime) ReadBatch(b *live.Batch) error {
	b.Reset()
	f, err := r.h.Next()
	if err != nil {
		return err
	}
	b.Append(f)
	return nil
}

// liveSource is the analyze.Source of a live capture. A goroutine reads batches of frames, copied out of the
// kernel's ring into pooled buffers, and queues them, so that a slow moment of the analysis does not stall
// the capture and the two goroutines meet once a batch rather than once a frame. Next takes frames from
// those batches and, while none comes, returns the clock's ticks as quiet capture times. It stops at --count
// frames or when ctx is done; frames captured before then are still analysed.
type liveSource struct {
	h       liveHandle
	batches chan *live.Batch
	free    chan *live.Batch
	errc    chan error
	tick    <-chan time.Time // wall-clock ticks, about once a second; nil: none (tests)
	done    <-chan struct{}
	limit   uint64 // stop after this many frames (--count); 0: no limit
	now     func() time.Time

	n        uint64
	cur      *live.Batch // the batch Next returns frames from; it goes back to the pool when used up
	next     int         // index in cur of the frame Next returns next
	lastTS   time.Time   // capture time of the latest frame
	lastWall time.Time   // wall time its batch arrived
}

func newLiveSource(ctx context.Context, h liveHandle, tick <-chan time.Time, limit uint64, now func() time.Time) *liveSource {
	s := &liveSource{h: h, batches: make(chan *live.Batch, batchQueue), free: make(chan *live.Batch, batchQueue+2),
		errc: make(chan error, 1), tick: tick, done: ctx.Done(), limit: limit, now: now}
	go readBatches(batches(h), s.batches, s.free, s.errc)
	return s
}

// Retain reports that frames are not kept in place: a batch is reused once its frames are taken.
func (s *liveSource) Retain() bool { return false }

// Next returns the next captured frame, or a quiet capture time on a tick of the clock with no frame.
func (s *liveSource) Next() (*capture.Frame, time.Time, error) {
	for {
		if s.cur != nil && s.next < len(s.cur.Frames) {
			f := &s.cur.Frames[s.next]
			s.next++
			if s.limit > 0 && s.n >= s.limit {
				continue // captured after --count was reached, before the capture stopped
			}
			s.n++
			if s.limit > 0 && s.n == s.limit {
				s.h.Close()
			}
			s.lastTS = f.Timestamp
			return f, time.Time{}, nil
		}
		if s.cur != nil {
			select {
			case s.free <- s.cur:
			default:
			}
			s.cur = nil
		}
		select {
		case b, ok := <-s.batches:
			if !ok {
				return nil, time.Time{}, readErr(s.errc)
			}
			s.cur, s.next, s.lastWall = b, 0, s.now()
		case now := <-s.tick:
			quiet := now
			if !s.lastTS.IsZero() {
				quiet = s.lastTS.Add(now.Sub(s.lastWall))
			}
			return nil, quiet, nil
		case <-s.done:
			s.done = nil
			s.h.Close() // frames already captured are still analysed, then batches closes
		}
	}
}

// stop ends the capture and waits for the reading goroutine, after a run that ended on an error.
func (s *liveSource) stop() {
	s.h.Close()
	for range s.batches {
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

// readBatches reads batches of frames into pooled buffers and queues them. It closes out when the capture
// ends; a read error other than the end is sent on errc, after the frames read before it.
func readBatches(r batchReader, out chan<- *live.Batch, free chan *live.Batch, errc chan<- error) {
	defer close(out)
	for {
		var b *live.Batch
		select {
		case b = <-free:
		default:
			b = live.NewBatch(live.DefaultBatchFrames, live.DefaultSnapLen)
		}
		err := r.ReadBatch(b)
		if len(b.Frames) > 0 {
			out <- b
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				errc <- err
			}
			return
		}
	}
}

// liveHooks are what live mode does beside the analysis, through analyze.Hooks: save and count each frame,
// and on each quiet tick make the saved file readable, check the kernel's drop counters and refresh the status.
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

// checkDrops reads the kernel's capture counters and warns while the kernel is dropping packets.
func (l *liveHooks) checkDrops() {
	st, err := l.h.Stats()
	if err != nil {
		return
	}
	if lost := (st.Dropped + st.IfDropped) - (l.stats.Dropped + l.stats.IfDropped); lost > 0 {
		l.status.clear()
		full := ""
		if n := st.Freezes - l.stats.Freezes; n > 0 {
			full = fmt.Sprintf(" (the capture buffer was full %d times: a larger --buffer rides out longer bursts)", n)
		}
		l.warn("warning: %d packets dropped in the last second (%d in all)%s: verdicts may be missing; "+
			"narrow the capture with --bpf", lost, st.Dropped+st.IfDropped, full)
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
		facts.Warnings = append(facts.Warnings, fmt.Sprintf("the capture dropped %d packets (%d in the kernel buffer, "+
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
