package main

import (
	"bytes"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"unicode/utf8"
)

// helpWidth is the widest line of any help text.
const helpWidth = 80

// wantsHelp says whether a command's arguments ask for its help (-h or --help before a "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help":
			return true
		}
	}
	return false
}

// runHelp prints the top-level help, or a command's ("help analyze", "help rules match").
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || wantsHelp(args[:1]) {
		fmt.Fprint(stdout, usage())
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return run(append(append([]string{}, args...), "-h"), nil, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "intunecap help: unknown command %q%s\nRun 'intunecap help' for the list of commands.\n",
		args[0], suggestion(args[0]))
	return 2
}

// commandHelp is a command's -h text as the user sees it, for the manual page and the completion scripts.
func commandHelp(args ...string) string {
	var out bytes.Buffer
	run(append(args, "-h"), nil, &out, io.Discard)
	return out.String()
}

// helpWrapper writes help text within helpWidth columns. Commands lay out their own usage; this keeps the
// promise of 80 columns whatever a description or a profile list grows to. A paragraph of prose with a line too
// long is filled again at its indent; a two-column line (a flag or a subcommand and its description) too long
// keeps its first column and wraps its description under itself. Lines that fit are left as they are.
type helpWrapper struct {
	w   io.Writer
	buf bytes.Buffer
}

// Write collects the help; flush writes it.
func (h *helpWrapper) Write(p []byte) (int, error) { return h.buf.Write(p) }

// flush writes the collected help, wrapped.
func (h *helpWrapper) flush() {
	io.WriteString(h.w, wrapHelp(h.buf.String()))
	h.buf.Reset()
}

// wrapHelp wraps a whole help text.
func wrapHelp(text string) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var b strings.Builder
	for i := 0; i < len(lines); {
		line := lines[i]
		if descColumn(line) > 0 || strings.TrimSpace(line) == "" {
			b.WriteString(wrapColumns(line))
			i++
			continue
		}
		j, long := i, false
		for j < len(lines) && isProse(lines[j], indentOf(line)) {
			long = long || utf8.RuneCountInString(lines[j]) > helpWidth
			j++
		}
		if !long {
			for _, l := range lines[i:j] {
				b.WriteString(l + "\n")
			}
		} else {
			fill(&b, strings.Join(lines[i:j], " "), indentOf(line), indentOf(line))
		}
		i = j
	}
	return b.String()
}

// isProse says whether line continues a paragraph at indent: not blank, not two columns, the same indent.
func isProse(line string, indent int) bool {
	return strings.TrimSpace(line) != "" && descColumn(line) == 0 && indentOf(line) == indent
}

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// descColumn is where the second column of a two-column line starts (after a run of two or more spaces
// inside the text), or 0 for a line of prose.
func descColumn(line string) int {
	in := indentOf(line)
	i := strings.Index(line[in:], "  ")
	if i < 0 {
		return 0
	}
	rest := line[in+i:]
	col := in + i + len(rest) - len(strings.TrimLeft(rest, " "))
	if col >= len(line) {
		return 0
	}
	return col
}

// wrapColumns wraps a two-column line's description under itself (or 8 columns in when that is far right).
func wrapColumns(line string) string {
	if utf8.RuneCountInString(line) <= helpWidth {
		return line + "\n"
	}
	col := descColumn(line)
	hang := col
	if hang > helpWidth/2 {
		hang = indentOf(line) + 8
	}
	var b strings.Builder
	head := line[:col]
	if utf8.RuneCountInString(head) >= helpWidth-20 {
		b.WriteString(strings.TrimRight(head, " ") + "\n")
		head = strings.Repeat(" ", hang)
	}
	fill(&b, head+line[col:], utf8.RuneCountInString(head), hang)
	return b.String()
}

// fill writes text's words (after its first first columns, written as they are) in lines of at most helpWidth
// columns, continuing at hang.
func fill(b *strings.Builder, text string, first, hang int) {
	prefix := text[:min(first, len(text))]
	cur, width, empty := prefix, utf8.RuneCountInString(prefix), true
	for _, word := range strings.Fields(text[len(prefix):]) {
		w := utf8.RuneCountInString(word)
		if !empty && width+1+w > helpWidth {
			b.WriteString(cur + "\n")
			cur, width, empty = strings.Repeat(" ", hang), hang, true
		}
		if !empty {
			cur += " "
			width++
		}
		cur += word
		width += w
		empty = false
	}
	b.WriteString(cur + "\n")
}

// suggestion is ` (did you mean "analyze"?)` for a misspelled command, or "".
func suggestion(word string) string {
	best, bestDist := "", 3
	for _, c := range commands() {
		if d := editDistance(strings.ToLower(word), c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ldflagsVersion may be set at build time with -ldflags "-X main.ldflagsVersion=v1.2.3"; it wins over the
// module version from the build information.
var ldflagsVersion string

// runVersion prints the version from the build information: the module version (a tag when installed with
// go install module@version, "(devel)" in a checkout), the VCS revision and whether the tree was modified,
// and the Go version.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !wantsHelp(args) {
		fmt.Fprintf(stderr, "intunecap version: unexpected argument %q\nRun 'intunecap version -h' for usage.\n", args[0])
		return 2
	}
	if wantsHelp(args) {
		fmt.Fprint(stderr, "usage: intunecap version\n\nPrint the module version, the VCS revision (with +dirty when the tree had\nchanges) and the Go version intunecap was built with.\n")
		return 0
	}
	fmt.Fprintln(stdout, versionLine())
	return 0
}

// versionLine is "intunecap v1.2.3 (revision 0123abcd4567, +dirty) go1.26.8".
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "intunecap unknown (no build information)"
	}
	return versionOf(info)
}

// versionOf is versionLine for the given build information. The VCS settings are there when the binary was
// built from a checkout with -buildvcs (the default outside GOFLAGS=-buildvcs=false).
func versionOf(info *debug.BuildInfo) string {
	v := info.Main.Version
	if ldflagsVersion != "" {
		v = ldflagsVersion
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", +dirty"
			}
		}
	}
	line := "intunecap " + v
	if rev != "" {
		line += " (revision " + rev[:min(12, len(rev))] + dirty + ")"
	}
	return line + " " + info.GoVersion
}

// moduleVersion is the version alone ("v1.2.3", "(devel)"), for intunecap_build_info's label.
func moduleVersion() string {
	if f := strings.Fields(versionLine()); len(f) > 1 {
		return f[1]
	}
	return "unknown"
}
