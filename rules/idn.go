package rules

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// idnaProfile is UTS #46 lookup processing (case folding, width and dot mapping, NFC, punycode) as
// idna.Lookup does it, with two checks turned off because rule files and packets both carry names that
// resolvers accept but the strict rules do not: '_' in service labels (StrictDomainName) and "--" or a
// leading '-' ("r3---sn-x", the "-files" of "*-files.example"; CheckHyphens). A Profile is immutable and
// safe for concurrent use.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// ToASCII turns a name written in Unicode ("bücher.example") into the form packets carry
// ("xn--bcher-kva.example"): lower case, one trailing dot removed, non-ASCII labels mapped, NFC-normalised
// and punycode-encoded by golang.org/x/net/idna. Rule files are written by people, packets by resolvers;
// both must meet in one spelling.
//
// A name that is already ASCII is only lower-cased: it is the form on the wire, and its "xn--" labels are
// taken as they are, as a packet would carry them. IDNA processing runs only for non-ASCII input, so when
// tables are loaded and for names typed on the command line, never per packet.
func ToASCII(name string) (string, error) {
	if isASCII(name) {
		return strings.TrimSuffix(lowerASCII(name), "."), nil
	}
	if !utf8.ValidString(name) {
		return "", errors.New("name is not valid UTF-8")
	}
	out, err := idnaProfile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("not a valid international name: %w", err)
	}
	return strings.TrimSuffix(out, "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
