package rules

import (
	"fmt"
	"strings"
)

// patternKind orders the pattern forms; precedence compares exact against the rest.
type patternKind uint8

const (
	kindExact patternKind = iota // "example.com": that name only
	kindSub                      // "*.example.com": any name strictly below example.com
	kindText                     // "*example.com": any name whose text ends in example.com
	kindInner                    // "a.*.example.com": a "*" label inside; each such label is exactly one label
)

// maxName is the longest name that can match: a DNS name is at most 253 characters without its final dot.
const maxName = 253

// pattern is a pattern compiled for matching. key is what the matcher's hash table files it under: the
// literal the name must equal (exact) or end with (sub, text); for sub patterns it keeps the leading dot, so
// its length also ranks it above "*example.com". An inner pattern is filed under the literal after its last
// "*" label, dot included (".onmicrosoft.com" for "autodiscover.*.onmicrosoft.com"), and head is the rest
// ("autodiscover.*"), checked against the part of the name before that dot. lit counts the literal
// characters of the whole pattern (its length less its stars): the more, the more specific.
type pattern struct {
	kind  patternKind
	key   string
	head  string
	ascii string // the whole pattern in ASCII form, stars included
	lit   int
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
	pat, err := compilePattern(ascii)
	if err != nil {
		return pattern{}, fmt.Errorf("bad pattern %q: %w", p, err)
	}
	return pat, nil
}

// compilePattern splits an ASCII pattern into its lead ("*." or "*" or nothing) and body, checks the body,
// and picks the form.
func compilePattern(ascii string) (pattern, error) {
	lead := leadOf(ascii)
	body := ascii[len(lead):]
	if err := checkBody(body, lead == "*"); err != nil {
		return pattern{}, err
	}
	pat := pattern{kind: kindExact, key: ascii, ascii: ascii,
		lit: len(ascii) - strings.Count(ascii, "*")}
	switch last := strings.LastIndexByte(ascii, '*'); {
	case last >= len(lead):
		pat.kind, pat.key, pat.head = kindInner, ascii[last+1:], ascii[:last+1]
	case lead == "*.":
		pat.kind, pat.key = kindSub, ascii[1:]
	case lead == "*":
		pat.kind, pat.key = kindText, body
	}
	if pat.lit > maxName {
		return pattern{}, fmt.Errorf("longer than %d characters", maxName)
	}
	return pat, nil
}

// leadOf is the wildcard a pattern starts with: "*." (whole labels), "*" (text) or "".
func leadOf(ascii string) string {
	switch {
	case strings.HasPrefix(ascii, "*."):
		return "*."
	case strings.HasPrefix(ascii, "*"):
		return "*"
	}
	return ""
}

// patternToASCII converts the literal parts of a pattern to their ASCII form; "*" labels pass through the
// IDNA mapping unchanged. A "*x" pattern whose first label is not ASCII has no ASCII meaning (the text
// suffix of a Unicode label is not a suffix of its punycode), so it is refused.
func patternToASCII(p string) (string, error) {
	lead := leadOf(p)
	rest := p[len(lead):]
	if first, _, _ := strings.Cut(rest, "."); lead == "*" && !isASCII(first) {
		return "", fmt.Errorf("'*' directly before non-ASCII characters (write \"*.\" before a whole label)")
	}
	ascii, err := ToASCII(rest)
	return lead + ascii, err
}

// checkBody accepts the characters of host names (and "_", found in service names) and "*" labels inside.
// After a "*" lead (text), the first label is the end of a label ("*-mscdn.example.com") and may not be a
// star. No label may be empty, and the last may not be a star: a pattern names a domain.
func checkBody(body string, textLead bool) error {
	if body == "" {
		return fmt.Errorf("nothing after '*' (a pattern must name a domain)")
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '.', c == '-', c == '_', c == '*', '0' <= c && c <= '9', 'a' <= c && c <= 'z':
		default:
			return fmt.Errorf("character %q not allowed (expected letters, digits, '-', '_' and '.')", c)
		}
	}
	labels := strings.Split(body, ".")
	for i, label := range labels {
		switch {
		case label == "":
			return fmt.Errorf("empty label")
		case len(label) > 63:
			return fmt.Errorf("label %q longer than 63 characters", label)
		case strings.Contains(label, "*") && (label != "*" || i == 0 && textLead):
			return fmt.Errorf("'*' inside a label (a wildcard is a whole label, as in \"a.*.example.com\", " +
				"or starts the pattern: \"*.example.com\", \"*example.com\")")
		}
	}
	if labels[len(labels)-1] == "*" {
		return fmt.Errorf("nothing after the last '*' (a pattern must end in a domain)")
	}
	return nil
}

// matches says whether name, a plain ASCII host name in lower case, is one the pattern covers: the loop a
// single pattern needs, for checking probe lists when a table is loaded.
func (p pattern) matches(name string) bool {
	switch p.kind {
	case kindExact:
		return name == p.key
	case kindSub:
		return len(name) > len(p.key) && strings.HasSuffix(name, p.key)
	case kindText:
		return strings.HasSuffix(name, p.key)
	}
	return len(name) > len(p.key) && strings.HasSuffix(name, p.key) &&
		headMatches(p.head, []byte(name[:len(name)-len(p.key)]))
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

// headMatches says whether s, the part of a name before the dot that starts an inner pattern's key, matches
// the pattern's head. It reads both from the right: a "*" label takes exactly one non-empty label, a
// literal label must be equal, and the first part of the head is an exact label, a "*" lead (one or more
// characters) or a "*x" lead (text ending in x). It does not allocate.
func headMatches(head string, s []byte) bool {
	for {
		dot := strings.LastIndexByte(head, '.')
		if dot < 0 {
			break
		}
		j := lastDot(s)
		if j < 0 {
			return false
		}
		label, got := head[dot+1:], s[j+1:]
		if label == "*" && len(got) == 0 || label != "*" && string(got) != label {
			return false
		}
		head, s = head[:dot], s[:j]
	}
	switch {
	case head == "*":
		return len(s) > 0
	case head[0] == '*':
		t := head[1:]
		return len(s) >= len(t) && string(s[len(s)-len(t):]) == t
	}
	return string(s) == head
}

func lastDot(s []byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}
