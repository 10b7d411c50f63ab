package rules

import (
	"fmt"
	"strings"
)

// patternKind orders the three pattern forms; precedence compares exact against the rest.
type patternKind uint8

const (
	kindExact patternKind = iota // "example.com": that name only
	kindSub                      // "*.example.com": any name strictly below example.com
	kindText                     // "*example.com": any name whose text ends in example.com
)

// maxName is the longest name that can match: a DNS name is at most 253 characters without its final dot.
const maxName = 253

// pattern is a pattern compiled for matching. key is the literal the name must equal (exact) or end with
// (sub, text); for sub patterns it keeps the leading dot, so its length also ranks it above "*example.com".
type pattern struct {
	kind patternKind
	key  string
}

// parsePattern validates a pattern as written in a rule file and compiles it.
func parsePattern(p string) (pattern, error) {
	if p == "" {
		return pattern{}, fmt.Errorf("empty pattern")
	}
	ascii, err := patternToASCII(p)
	if err != nil {
		return pattern{}, fmt.Errorf("bad pattern %q: %w", p, err)
	}
	pat := pattern{kind: kindExact, key: ascii}
	lit := ascii
	switch {
	case strings.HasPrefix(ascii, "*."):
		lit = ascii[2:]
		pat = pattern{kind: kindSub, key: ascii[1:]}
	case strings.HasPrefix(ascii, "*"):
		lit = ascii[1:]
		pat = pattern{kind: kindText, key: lit}
	}
	if err := checkLiteral(lit); err != nil {
		return pattern{}, fmt.Errorf("bad pattern %q: %w", p, err)
	}
	if len(pat.key) > maxName {
		return pattern{}, fmt.Errorf("bad pattern %q: longer than %d characters", p, maxName)
	}
	return pat, nil
}

// patternToASCII converts the literal part of a pattern to its ASCII form. A "*x" pattern whose first
// label is not ASCII has no ASCII meaning (the text suffix of a Unicode label is not a suffix of its
// punycode), so it is refused.
func patternToASCII(p string) (string, error) {
	star, rest := "", p
	switch {
	case strings.HasPrefix(p, "*."):
		star, rest = "*.", p[2:]
	case strings.HasPrefix(p, "*"):
		star, rest = "*", p[1:]
		first, _, _ := strings.Cut(rest, ".")
		if !isASCII(first) {
			return "", fmt.Errorf("'*' directly before non-ASCII characters (write \"*.\" before a whole label)")
		}
	}
	ascii, err := ToASCII(rest)
	return star + ascii, err
}

// checkLiteral accepts the characters of host names (and "_", found in service names). A text pattern's
// literal may start inside a label ("*-mscdn.example.com"); no label may be empty.
func checkLiteral(lit string) error {
	if lit == "" {
		return fmt.Errorf("nothing after '*' (a pattern must name a domain)")
	}
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		switch {
		case c == '*':
			return fmt.Errorf("'*' in the middle (a wildcard is only allowed at the start: \"*.example.com\" or \"*example.com\")")
		case c == '.', c == '-', c == '_', '0' <= c && c <= '9', 'a' <= c && c <= 'z':
		default:
			return fmt.Errorf("character %q not allowed (expected letters, digits, '-', '_' and '.')", c)
		}
	}
	for _, label := range strings.Split(lit, ".") {
		if label == "" {
			return fmt.Errorf("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label %q longer than 63 characters", label)
		}
	}
	return nil
}

// parseDomain validates a plain domain (a Microsoft suffix): a pattern without wildcard.
func parseDomain(d string) (string, error) {
	pat, err := parsePattern(d)
	if err != nil {
		return "", err
	}
	if pat.kind != kindExact {
		return "", fmt.Errorf("bad domain %q: no wildcard here (a suffix already covers every name below it)", d)
	}
	return pat.key, nil
}

// matches is the plain definition of the three forms, used by the table checks and the reference matcher.
func (p pattern) matches(name string) bool {
	switch p.kind {
	case kindExact:
		return name == p.key
	case kindSub:
		return len(name) > len(p.key) && strings.HasSuffix(name, p.key)
	default:
		return strings.HasSuffix(name, p.key)
	}
}
