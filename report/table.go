package report

import (
	"bytes"
	"strings"
	"text/tabwriter"
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

// paint wraps s in an ANSI colour when colour is on.
func paint(on bool, color, s string) string {
	if !on || color == "" {
		return s
	}
	return color + s + colorReset
}

// table lays out rows in aligned columns. The first cell of a row may be coloured; the colour is added after
// text/tabwriter has aligned the plain text, because tabwriter would count escape bytes as width.
type table struct {
	indent string
	rows   [][]string
	colors []string
}

// add appends a row; an empty cell is shown as "-" so no line ends in padding.
func (tb *table) add(color string, cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	tb.rows = append(tb.rows, cells)
	tb.colors = append(tb.colors, color)
}

// render writes the aligned table to b.
func (tb *table) render(b *bytes.Buffer, color bool) {
	var plain bytes.Buffer
	tw := tabwriter.NewWriter(&plain, 0, 0, 2, ' ', 0)
	for _, row := range tb.rows {
		tw.Write([]byte(tb.indent + strings.Join(row, "\t") + "\n"))
	}
	tw.Flush()
	for i, line := range strings.SplitAfter(plain.String(), "\n") {
		if line == "" {
			continue
		}
		if i < len(tb.colors) && color && tb.colors[i] != "" {
			first := len(tb.indent) + len(tb.rows[i][0])
			line = tb.indent + paint(true, tb.colors[i], line[len(tb.indent):first]) + line[first:]
		}
		b.WriteString(line)
	}
}
