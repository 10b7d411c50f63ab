// Package annotate writes a capture back out as pcapng with intunecap's verdicts in packet comments
// (opt_comment), so a user can go back to Wireshark and find each record's deciding frames with the display
// filter `frame.comment contains "intunecap:"`. Packets are copied unchanged: the same bytes, timestamps,
// interfaces, link types and original comments.
//
// It works in two passes and never holds the capture: the analysis collects Marks (a few words per record),
// then Write streams the input files block by block and adds each frame's comments as it goes.
package annotate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
)

// Prefix starts every comment intunecap writes, so a display filter can find them and tell them from comments
// that were already in the capture.
const Prefix = "intunecap: "

// DefaultMaxMarks bounds the comments kept between the two passes: three per record for about 300,000 records,
// some 100 MiB at worst. Past it, further marks are counted in Marks.Dropped and the caller says so.
const DefaultMaxMarks = 1 << 20

// MaxComment caps one comment's length in bytes (a pcapng option holds at most 65,535); a longer one is cut
// and ends in "...".
const MaxComment = 2048

// Mark is one comment to put on one frame of one input file.
type Mark struct {
	File  int    // index of the input file, in the order the files were given
	Frame uint64 // 1-based frame number within that file, as Wireshark shows it for the file alone
	Text  string // the comment, starting with Prefix
	seq   int    // order of addition, so that comments on the same frame keep a stable order
}

// Marks collects the comments of an analysis. It is a result.Sink: feed it every record, then the summary.
type Marks struct {
	files   map[string]int // file name as the engine writes it in Record.File → input index
	list    []Mark
	limit   int
	Dropped uint64 // marks not kept because the limit was reached
}

// NewMarks returns an empty collection for the given input files (names as passed to the engine), keeping at
// most limit marks (DefaultMaxMarks when limit <= 0).
func NewMarks(files []string, limit int) *Marks {
	if limit <= 0 {
		limit = DefaultMaxMarks
	}
	m := &Marks{files: make(map[string]int, len(files)), limit: limit}
	for i, f := range files {
		if _, dup := m.files[f]; !dup {
			m.files[f] = i
		}
	}
	return m
}

// Record adds the marks of one record: its first frame, the frame that named it, and the frame that decided
// its verdict, each once (a frame that plays two roles gets one comment naming both).
func (m *Marks) Record(r *result.Record) error {
	file := 0
	if r.File != "" {
		i, ok := m.files[r.File]
		if !ok {
			return fmt.Errorf("annotate: record from unknown file %q", r.File)
		}
		file = i
	}
	summary := Describe(r)
	type role struct {
		frame uint64
		what  string
	}
	roles := []role{{r.FirstFrame, "first frame"}, {r.NameFrame, "named here"}, {DecidingFrame(r), "decided here"}}
	for i, ro := range roles {
		if ro.frame == 0 {
			continue
		}
		what := []string{ro.what}
		dup := false
		for j, other := range roles {
			if j < i && other.frame == ro.frame {
				dup = true
			}
			if j > i && other.frame == ro.frame {
				what = append(what, other.what)
			}
		}
		if !dup {
			m.add(Mark{File: file, Frame: ro.frame, Text: summary + " [" + strings.Join(what, ", ") + "]"})
		}
	}
	return nil
}

// Summary ends the collection; the summary itself adds no mark.
func (m *Marks) Summary(*result.Summary) error { return nil }

func (m *Marks) add(mk Mark) {
	if len(mk.Text) > MaxComment {
		mk.Text = strings.ToValidUTF8(mk.Text[:MaxComment-3], "") + "..."
	}
	if len(m.list) >= m.limit {
		m.Dropped++
		return
	}
	mk.seq = len(m.list)
	m.list = append(m.list, mk)
}

// Len is the number of marks kept.
func (m *Marks) Len() int { return len(m.list) }

// sorted returns the marks in the order Write meets their frames: by file, frame, then order of addition.
func (m *Marks) sorted() []Mark {
	out := slices.Clone(m.list)
	slices.SortFunc(out, func(a, b Mark) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.seq, b.seq))
	})
	return out
}

// DecidingFrame is the frame that settled a record's verdict: the one the engine names (verdict_frame: the
// proxy's answer, the server side's RST), else the last frame (the DNS answer, the last unanswered SYN).
func DecidingFrame(r *result.Record) uint64 {
	if r.VerdictFrame != 0 {
		return r.VerdictFrame
	}
	return r.LastFrame
}

// Describe is the comment for a record, e.g. `intunecap: blocked after-syn; *.manage.microsoft.com
// (intune-2015:1); the SYN got no answer`. Strings from packets are escaped: a comment is one printable line.
func Describe(r *result.Record) string {
	var b strings.Builder
	b.WriteString(Prefix)
	b.WriteString(string(r.Verdict))
	if r.Stage != "" {
		b.WriteString(" " + string(r.Stage))
	}
	if r.Name != "" {
		b.WriteString("; " + safetext.Text(r.Name))
	}
	if r.Rule != "" {
		b.WriteString("; " + safetext.Text(r.Rule))
		if r.RuleKey != "" {
			b.WriteString(" (" + r.RuleKey + ")")
		}
	}
	if r.Reason != "" {
		b.WriteString("; " + safetext.Text(r.Reason))
	}
	return b.String()
}
