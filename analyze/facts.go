package analyze

import (
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
)

// FactsFrom describes capture files as the reader saw them, for the summary.
func FactsFrom(r *capture.Reader) result.CaptureFacts {
	st := r.Stats()
	var f result.CaptureFacts
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
