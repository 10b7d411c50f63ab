package annotate

import (
	"fmt"
	"io"

	"github.com/intunecap/intunecap/rules"
)

// colorRule is one line of Wireshark's colorfilters file: a name, a display filter, and the background and
// foreground colours as 16-bit RGB.
type colorRule struct {
	verdict rules.Verdict
	bg      [3]uint16
}

// colorRules paints annotated frames by verdict, failures first (Wireshark applies the first rule that matches).
// Backgrounds are light tints of the Okabe–Ito palette, which colour-blind readers can tell apart, under black text.
var colorRules = []colorRule{
	{rules.Blocked, [3]uint16{0xF5F5, 0xC2C2, 0xA3A3}},        // vermillion tint
	{rules.Reset, [3]uint16{0xFAFA, 0xDDDD, 0x9999}},          // orange tint
	{rules.Intercepted, [3]uint16{0xE6E6, 0xC8C8, 0xDCDC}},    // reddish-purple tint
	{rules.PortNotAllowed, [3]uint16{0xF8F8, 0xF2F2, 0xA0A0}}, // yellow tint
	{rules.Unlisted, [3]uint16{0xB8B8, 0xDEDE, 0xF5F5}},       // sky-blue tint
	{rules.Allowed, [3]uint16{0xB3B3, 0xE6E6, 0xD5D5}},        // bluish-green tint
}

// WriteColorFilters writes a coloring-rules file in Wireshark's colorfilters format that paints the frames
// carrying an intunecap comment by the verdict the comment names. Load it in Wireshark with View → Coloring
// Rules → Import, or put it in a profile folder as "colorfilters".
func WriteColorFilters(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "# intunecap coloring rules: frames annotated by `intunecap annotate`, by verdict"); err != nil {
		return err
	}
	for _, r := range colorRules {
		_, err := fmt.Fprintf(w, "@intunecap %s@%s@[%d,%d,%d][0,0,0]\n", r.verdict, CommentFilter(r.verdict),
			r.bg[0], r.bg[1], r.bg[2])
		if err != nil {
			return err
		}
	}
	return nil
}

// CommentFilter is the Wireshark display filter that finds the frames annotated with a verdict.
func CommentFilter(v rules.Verdict) string {
	return fmt.Sprintf("frame.comment contains \"%s%s\"", Prefix, v)
}
