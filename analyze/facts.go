package analyze

import (
	"github.com/intunecap/intunecap/analyze/decode"
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

// addStats adds one decoder's fragment counts to st.
func addStats(st *decode.Stats, o decode.Stats) {
	st.FragmentsHeld += o.FragmentsHeld
	st.Reassembled += o.Reassembled
	st.FragmentsDropped += o.FragmentsDropped
	st.DroppedTimeout += o.DroppedTimeout
	st.DroppedAtCap += o.DroppedAtCap
	st.DroppedInvalid += o.DroppedInvalid
	st.Incomplete += o.Incomplete
}

// addFragments writes the decoders' fragment counts into the quality section.
func addFragments(q *result.Quality, st decode.Stats) {
	q.FragmentsReassembled += st.Reassembled
	q.FragmentsDropped += st.FragmentsDropped
	q.FragmentsIncomplete += st.Incomplete
}
