package capture

import (
	"errors"
	"io"
	"unicode"
	"unicode/utf8"
)

// errClosed is returned by Next after Close.
var errClosed = errors.New("capture reader closed")

// cleanErr presents an error from a library with our conventions (lower-case first letter, plain words for a
// truncated file) while keeping the original reachable through errors.Is/As.
type cleanErr struct{ err error }

func (e cleanErr) Error() string { return describe(e.err) }
func (e cleanErr) Unwrap() error { return e.err }

// describe turns a reading error into a short lower-case phrase for a user.
func describe(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file (truncated capture)"
	}
	return lowerFirst(err.Error())
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsUpper(r) {
		return s
	}
	// Keep acronyms such as "IP" or "TCP" intact.
	if next, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
