package analyze

import (
	"time"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
)

// Source is where a run reads its frames: a set of capture files (Files) or a live interface (cmd/intunecap's
// live source). These two methods are the whole contract; a wrapper (a progress bar, say) implements both,
// and the compiler holds it to that.
type Source interface {
	// Next returns the next frame, valid until the following call (longer when Retain said so: see there).
	// After the last frame it returns io.EOF; any other error ends the run with that error.
	//
	// A live source, while no frame comes, returns about once a second a nil frame and the capture time that
	// stands for now (its last frame's time plus the wall time since), so that what waits on capture time
	// (unanswered SYNs, DNS timeouts, closing connections) is reported while the wire is quiet. A file source
	// never does: its quiet time is always zero.
	Next() (f *capture.Frame, quiet time.Time, err error)

	// Retain asks the source to leave each frame's bytes in place past the next call to Next, for as long as
	// the frame's Chunk is held (capture.Chunk.Retain, Release), so that workers read them without a copy. It
	// reports whether the source does; the run copies the frames of a source that does not. A run calls it
	// once, before the first Next, and only when it hands frames to other goroutines.
	Retain() bool
}

// Files is the Source of a set of capture files: frames in place, retained on request.
func Files(r *capture.Reader) Source { return fileSource{r} }

type fileSource struct{ r *capture.Reader }

func (s fileSource) Next() (*capture.Frame, time.Time, error) {
	f, err := s.r.NextFrame()
	return f, time.Time{}, err
}

func (s fileSource) Retain() bool {
	s.r.Retain()
	return true
}

// Hooks let the caller of Run act as the run goes, on the run's goroutine; a nil hook does nothing. Live mode
// saves frames (--write), counts them and checks the interface's drop counters through them.
type Hooks struct {
	// Frame sees every frame before the engines do. Its error ends the run.
	Frame func(f *capture.Frame) error
	// Quiet is called after the engines moved to a quiet time from the source (Source.Next), with how many
	// connections they track. Its error ends the run.
	Quiet func(tracked int) error
	// Facts, called once after the last frame, describes the input for the summary (files, link types,
	// warnings, drops); the engines add their counts. Without it the summary says nothing of the input.
	Facts func() result.CaptureFacts
}
