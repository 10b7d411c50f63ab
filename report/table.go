package report

import (
	"bytes"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// ANSI colours of equal length, used only with Options.Color.
const (
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
	colorDim    = "\x1b[90m"
	colorBold   = "\x1b[1m"
	colorReset  = "\x1b[0m"
)

// reportWidth is the width the text report is laid out for (without --wide): a terminal, a CI log, an e-mail.
const reportWidth = 100

// paint wraps s in an ANSI colour when colour is on.
func paint(on bool, color, s string) string {
	if !on || color == "" {
		return s
	}
	return color + s + colorReset
}

// table lays out rows in aligned columns. The first cell of a row may be coloured; the colour is added after
// text/tabwriter has aligned the plain text, because tabwriter would count escape bytes as width. A row may
// carry lines written above it (a sub-heading) and below it (its detail, wrapped), outside the alignment.
type table struct {
	indent string
	rows   []tableRow
}

type tableRow struct {
	cells  []string
	color  string
	before string // a line above the row, as is
	after  string // a line below the row, wrapped to reportWidth under a deeper indent
}

// add appends a row; an empty cell is shown as "-" so no line ends in padding.
func (tb *table) add(color string, cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	tb.rows = append(tb.rows, tableRow{cells: cells, color: color})
}

// above sets the line written above the last row added.
func (tb *table) above(line string) { tb.rows[len(tb.rows)-1].before = line }

// below sets the text written, wrapped, below the last row added.
func (tb *table) below(text string) { tb.rows[len(tb.rows)-1].after = text }

// render writes the aligned table to b.
func (tb *table) render(b *bytes.Buffer, color bool) {
	var plain bytes.Buffer
	tw := tabwriter.NewWriter(&plain, 0, 0, 2, ' ', 0)
	for _, row := range tb.rows {
		tw.Write([]byte(tb.indent + strings.Join(row.cells, "\t") + "\n"))
	}
	tw.Flush()
	lines := strings.SplitAfter(plain.String(), "\n")
	for i, row := range tb.rows {
		if i >= len(lines) {
			break
		}
		line := lines[i]
		if row.before != "" {
			b.WriteString(row.before + "\n")
		}
		if color && row.color != "" {
			first := len(tb.indent) + len(row.cells[0])
			line = tb.indent + paint(true, row.color, line[len(tb.indent):first]) + line[first:]
		}
		b.WriteString(line)
		if row.after != "" {
			wrap(b, row.after, tb.indent+"  ", reportWidth)
		}
	}
}

// wrap writes text in lines of at most width columns, each starting with indent, breaking at spaces; a word
// longer than a line gets a line of its own.
func wrap(b *bytes.Buffer, text, indent string, width int) {
	room := max(width-utf8.RuneCountInString(indent), 20)
	line, n := "", 0
	for _, word := range strings.Fields(text) {
		w := utf8.RuneCountInString(word)
		if n > 0 && n+1+w > room {
			b.WriteString(indent + line + "\n")
			line, n = "", 0
		}
		if n > 0 {
			line += " "
			n++
		}
		line += word
		n += w
	}
	if n > 0 {
		b.WriteString(indent + line + "\n")
	}
}
