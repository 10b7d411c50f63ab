package rules

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// The parameters of RFC 3492 for IDNA.
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// ToASCII turns a name written in Unicode ("bücher.example") into the form packets carry
// ("xn--bcher-kva.example"): lower case, one trailing dot removed, non-ASCII labels punycode-encoded. Rule
// files are written by people, packets by resolvers; both must meet in one spelling.
//
// It lower-cases with Unicode case folding and maps the ideographic full stops to ".", but does not apply
// NFC normalisation (golang.org/x/net/idna needs golang.org/x/text, which the module does not require yet).
func ToASCII(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", errors.New("name is not valid UTF-8")
	}
	name = strings.TrimSuffix(mapDots(name), ".")
	if isASCII(name) {
		return lowerASCII(name), nil
	}
	labels := strings.Split(strings.ToLower(name), ".")
	for i, l := range labels {
		if isASCII(l) {
			continue
		}
		enc, err := punyEncode(l)
		if err != nil {
			return "", err
		}
		labels[i] = "xn--" + enc
	}
	return strings.Join(labels, "."), nil
}

func mapDots(s string) string {
	return strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(s)
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

// punyEncode is the encoder of RFC 3492 section 6.3.
func punyEncode(label string) (string, error) {
	runes := []rune(label)
	out := make([]byte, 0, len(label)+8)
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h := basic; h < len(runes); {
		m := nextCodePoint(runes, n)
		if int(m-n) > (1<<30)/(h+1) {
			return "", errors.New("punycode overflow")
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			out = appendVarInt(out, delta, bias)
			bias = adapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out), nil
}

func nextCodePoint(runes []rune, n rune) rune {
	m := rune(utf8.MaxRune + 1)
	for _, r := range runes {
		if r >= n && r < m {
			m = r
		}
	}
	return m
}

func appendVarInt(out []byte, q, bias int) []byte {
	for k := pcBase; ; k += pcBase {
		t := k - bias
		if t < pcTMin {
			t = pcTMin
		} else if t > pcTMax {
			t = pcTMax
		}
		if q < t {
			break
		}
		out = append(out, punyDigit(t+(q-t)%(pcBase-t)))
		q = (q - t) / (pcBase - t)
	}
	return append(out, punyDigit(q))
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func adapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
