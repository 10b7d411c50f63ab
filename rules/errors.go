package rules

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// FileError is a problem in a rule file, placed where an editor can jump to it ("rules.yaml:12:14: ...").
// Line and Col are 1-based; zero when unknown (Col is zero for YAML syntax errors, which carry a line only).
type FileError struct {
	Path      string
	Line, Col int
	Msg       string
}

// Error renders path:line:col: message, leaving out the parts that are unknown.
func (e *FileError) Error() string {
	s := e.Path
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
		if e.Col > 0 {
			s += ":" + strconv.Itoa(e.Col)
		}
	}
	return s + ": " + e.Msg
}

// pos is a place in a file.
type pos struct{ line, col int }

func (p pos) errorf(path, format string, args ...any) *FileError {
	return &FileError{Path: path, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

// lineIndex turns increasing byte offsets into positions in time linear in the file: each call counts from
// where the last one stopped at an ASCII byte, which is where JSON values start. (Counting from the start for
// every row of a one-line file of 4 MB took a minute and a half.) An offset before the last falls back to
// counting from the start.
type lineIndex struct {
	data []byte
	off  int64
	at   pos
}

func newLineIndex(data []byte) *lineIndex { return &lineIndex{data: data, at: pos{line: 1, col: 1}} }

// pos returns the position of off.
func (l *lineIndex) pos(off int64) pos {
	off = min(max(off, 0), int64(len(l.data)))
	if off < l.off {
		return offsetPos(l.data, off)
	}
	at := l.at
	seg := l.data[l.off:off]
	if nl := bytes.Count(seg, []byte{'\n'}); nl > 0 {
		at.line += nl
		at.col = 1
		seg = seg[bytes.LastIndexByte(seg, '\n')+1:]
	}
	at.col += utf8.RuneCount(seg)
	if off == int64(len(l.data)) || l.data[off] < utf8.RuneSelf { // a character boundary: count on from here
		l.off, l.at = off, at
	}
	return at
}

// offsetPos turns a byte offset (what encoding/json reports) into a line and a column counted in characters.
func offsetPos(data []byte, off int64) pos {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return pos{line: line, col: utf8.RuneCount(before[start:]) + 1}
}
