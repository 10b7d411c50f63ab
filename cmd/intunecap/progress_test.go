package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/tools/synth/gen"
)

// progressCapture writes a synthetic capture of a few buffer fills (the reader reads 1 MiB at a time) and opens
// it.
func progressCapture(t *testing.T) (*capture.Reader, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.pcap")
	if _, err := gen.WriteFile(path, gen.Config{Size: 5_000_000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, path
}

// fakeClock advances by step on every reading, so the test decides how much wall time passes per frame.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func drain(t *testing.T, src analyze.Source) int {
	t.Helper()
	n := 0
	for {
		_, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func TestProgressDisabledIsTheReader(t *testing.T) {
	r, _ := progressCapture(t)
	var out bytes.Buffer
	if src := withProgress(r, &out, false); src != analyze.Files(r) {
		t.Fatalf("disabled progress wraps the reader: %T", src)
	}
	if out.Len() != 0 {
		t.Fatalf("disabled progress wrote %q", out.String())
	}
}

func TestProgressBar(t *testing.T) {
	tests := []struct {
		name    string
		step    time.Duration // wall time per clock reading
		every   int
		total   bool // size known
		minDraw int  // redraws expected at least
		maxDraw int  // and at most
		want    string
	}{
		{"known size, slow", 50 * time.Millisecond, 1, true, 20, 1 << 20, "%"},
		{"known size, fast clock reads throttled", time.Millisecond, 1, true, 1, 1 << 20, "%"},
		{"clock read every 64 frames", time.Second, 64, true, 1, 1 << 20, "%"},
		{"unknown size spinner", 50 * time.Millisecond, 1, false, 20, 1 << 20, "B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, path := progressCapture(t)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			total := fi.Size()
			if !tt.total {
				total = -1
			}
			var out bytes.Buffer
			clock := &fakeClock{t: time.Unix(0, 0), step: tt.step}
			p := newProgress(r, &out, clock.now, total, tt.every)
			frames := drain(t, p)
			if uint64(frames) != r.Stats().Frames {
				t.Fatalf("passed %d frames, reader read %d", frames, r.Stats().Frames)
			}
			draws := strings.Count(out.String(), "reading")
			if draws < tt.minDraw || draws > tt.maxDraw || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("%d redraws for %d frames: %q", draws, frames, tail(out.String()))
			}
			if last := lastLine(out.String()); strings.TrimSpace(last) != "" {
				t.Fatalf("bar not cleared at the end: last line %q", last)
			}
			if _, _, err := p.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the end: %v", err)
			}
		})
	}
}

// TestProgressThrottle checks that the bar is redrawn at most once per progressInterval of wall time.
func TestProgressThrottle(t *testing.T) {
	r, _ := progressCapture(t)
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0), step: 10 * time.Millisecond} // 10 readings per redraw
	p := newProgress(r, &out, clock.now, -1, 1)
	frames := drain(t, p)
	draws := strings.Count(out.String(), "reading")
	if max := frames/10 + 1; draws > max || draws == 0 {
		t.Fatalf("%d redraws for %d frames at 10 ms a frame, want 1..%d", draws, frames, max)
	}
}

func tail(s string) string { return s[max(0, len(s)-300):] }

// lastLine is what a terminal shows last: the text after the last carriage return.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\r")
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
