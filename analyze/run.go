package analyze

import (
	"errors"
	"fmt"
	"io"

	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
)

// Source is where frames come from: capture files now, a live interface later.
type Source interface {
	Next() (capture.Frame, error)
}

// Run decodes every frame of src and feeds it to e until src ends. It does not call Finish: the caller adds what
// it knows of the input first. A decode failure is counted, never fatal.
func Run(src Source, e *Engine) error {
	dec := decode.NewDecoder(decode.Options{})
	var p decode.Packet
	for {
		f, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read packets: %w", err)
		}
		if err := dec.Decode(f, &p); err != nil {
			e.Undecodable(&f)
			continue
		}
		if p.Fragment {
			e.seq++
			e.count(&f, &p)
			continue
		}
		if err := e.Packet(&f, &p); err != nil {
			return err
		}
	}
}

// FactsFrom describes capture files as the reader saw them, for the summary.
func FactsFrom(r *capture.Reader) CaptureFacts {
	st := r.Stats()
	var f CaptureFacts
	for _, fs := range st.Files {
		f.Files = append(f.Files, fs.Name)
		for _, itf := range fs.Interfaces {
			if itf.DropsKnown {
				f.Quality.InterfaceDrops += itf.Dropped
			}
		}
	}
	for _, lt := range st.LinkTypes {
		f.LinkTypes = append(f.LinkTypes, lt.String())
	}
	for _, w := range r.Warnings() {
		f.Warnings = append(f.Warnings, w.String())
	}
	return f
}
