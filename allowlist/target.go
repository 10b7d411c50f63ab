package allowlist

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// kind is the form of a requirement's pattern, as rules/pattern.go defines them.
type kind uint8

const (
	kindExact kind = iota // "example.com": that name only
	kindSub               // "*.example.com": any name strictly below example.com
	kindText              // "*example.com": any name whose text ends in example.com, example.com included
	kindInner             // "a.*.example.com": a "*" label stands for exactly one label
	kindCIDR              // "13.107.219.0/24": an address range
)

// target is one requirement's pattern made ready for the formats.
type target struct {
	kind   kind
	ascii  string       // the pattern in ASCII, lower case, stars kept
	base   string       // exact: the name; sub: the domain below which; text: the text suffix
	prefix netip.Prefix // kindCIDR
}

// parseTarget reads a summary row's pattern. It accepts what the rules loader accepted; anything else (a
// hand-edited summary, say) is an error the formats turn into a comment line.
func parseTarget(pattern string) (target, error) {
	if p, err := netip.ParsePrefix(pattern); err == nil {
		return target{kind: kindCIDR, ascii: p.Masked().String(), prefix: p.Masked()}, nil
	}
	lead := ""
	switch {
	case strings.HasPrefix(pattern, "*."):
		lead = "*."
	case strings.HasPrefix(pattern, "*"):
		lead = "*"
	}
	rest, err := rules.ToASCII(pattern[len(lead):])
	if err != nil {
		return target{}, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	if err := checkChars(rest); err != nil {
		return target{}, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	t := target{ascii: lead + rest, base: rest}
	switch {
	case strings.Contains(rest, "*"):
		t.kind = kindInner
	case lead == "*.":
		t.kind = kindSub
	case lead == "*":
		t.kind = kindText
	}
	return t, nil
}

// checkChars accepts what a host-name pattern may hold, so nothing else can reach a config file or a script.
func checkChars(s string) error {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return fmt.Errorf("not a domain")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.', c == '-', c == '_', c == '*', '0' <= c && c <= '9', 'a' <= c && c <= 'z':
		default:
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}

// regex is a regular expression, anchored at the end and, unless the pattern starts with text, at the
// start, for the names the pattern matches, in the syntax POSIX extended
// regular expressions (squid's dstdom_regex) and JavaScript share. Labels are read as rules/pattern.go reads
// them: a "*" label is one non-empty label; a leading "*." is one or more characters and a dot; a leading "*"
// glued to text is any text, none included.
func (t target) regex() string {
	switch t.kind {
	case kindExact:
		return "^" + quoteDots(t.base) + "$"
	case kindSub:
		return "^.+\\." + quoteDots(t.base) + "$"
	case kindText:
		return quoteDots(t.base) + "$"
	case kindCIDR:
		return ""
	}
	labels := strings.Split(t.ascii, ".")
	parts := make([]string, len(labels))
	for i, l := range labels {
		switch {
		case i == 0 && l == "*" && strings.HasPrefix(t.ascii, "*."):
			parts[i] = ".+"
		case l == "*":
			parts[i] = "[^.]+"
		case i == 0 && strings.HasPrefix(l, "*"):
			parts[i] = ".*" + quoteDots(l[1:])
		default:
			parts[i] = quoteDots(l)
		}
	}
	// A leading ".*" is what an unanchored start means already; squid warns about it as a needless wildcard.
	return strings.TrimPrefix("^"+strings.Join(parts, "\\.")+"$", "^.*")
}

// quoteDots escapes the dots of a checked literal: the only regex metacharacter checkChars lets through, with
// the star, which never reaches here.
func quoteDots(s string) string { return strings.ReplaceAll(s, ".", "\\.") }
