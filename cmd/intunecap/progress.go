package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
)

const (
	// progressEvery is how many frames pass between looks at the clock: a clock read costs about as much as
	// decoding a packet's headers, so the hot path pays for one every few thousand frames only.
	progressEvery = 4096
	// progressInterval is the least wall time between two redraws: faster is flicker, and costs a Stats copy.
	progressInterval = 100 * time.Millisecond
)

// progressSource passes frames through from the Source of a set of files and redraws a progress bar as it goes: bytes read of the
// total with rate and ETA, or for standard input (size unknown) a spinner with bytes and rate.
type progressSource struct {
	src   analyze.Source
	r     *capture.Reader // the files src reads: how far it got
	bar   *progressbar.ProgressBar
	now   func() time.Time
	every int
	total int64 // -1 when unknown
	last  time.Time
	n     int
	done  bool
}

// withProgress reads r with a progress bar on stderr when enabled (the caller decides: stderr is a terminal and
// --quiet was not given). When not enabled it returns the files' Source itself, so a run without a bar pays
// nothing.
func withProgress(r *capture.Reader, stderr io.Writer, enabled bool) analyze.Source {
	if !enabled {
		return analyze.Files(r)
	}
	return newProgress(r, stderr, time.Now, r.Stats().BytesTotal, progressEvery)
}

func newProgress(r *capture.Reader, w io.Writer, now func() time.Time, total int64, every int) *progressSource {
	if total <= 0 {
		total = -1
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		// No spinner goroutine: every redraw happens on the reading goroutine, at most every progressInterval.
		progressbar.OptionSetSpinnerChangeInterval(0),
	}
	if total < 0 {
		opts = append(opts, progressbar.OptionSpinnerType(14), progressbar.OptionSetElapsedTime(true))
	}
	bar := progressbar.NewOptions64(total, opts...)
	// The bar starts its clock at its first update: start it now, at what the reader has already read, so the
	// first redraw does not divide a megabyte of read-ahead by a microsecond (rates like "24 TB/s").
	_ = bar.Set64(max(0, min(r.Stats().BytesRead, total-1)))
	return &progressSource{
		src: analyze.Files(r), r: r, bar: bar, now: now, every: every, total: total, last: now(),
	}
}

// Retain passes retention on to the files (the run asks for it to hand frames to workers without copies).
func (p *progressSource) Retain() bool { return p.src.Retain() }

// Next returns the files' next frame; at the end (or on an error) it finishes and clears the bar, so the
// report and any warnings start on a clean line.
func (p *progressSource) Next() (*capture.Frame, time.Time, error) {
	f, quiet, err := p.src.Next()
	if err != nil {
		p.finish()
		return f, quiet, err
	}
	p.n++
	if p.n >= p.every {
		p.n = 0
		p.tick()
	}
	return f, quiet, nil
}

func (p *progressSource) tick() {
	t := p.now()
	if t.Sub(p.last) < progressInterval {
		return
	}
	p.last = t
	read := p.r.Stats().BytesRead
	if p.total > 0 {
		// The reader buffers 1 MiB ahead: the last bytes are read before the last frames are analysed, and a
		// bar at its maximum finishes itself. It stays just short of it until the end.
		read = min(read, p.total-1)
	}
	_ = p.bar.Set64(read) // a progress bar that cannot be drawn is no reason to stop the analysis
}

func (p *progressSource) finish() {
	if p.done {
		return
	}
	p.done = true
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}
