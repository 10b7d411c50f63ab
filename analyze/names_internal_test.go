package analyze

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// usableNameReference is usableName without its shortcut: any string ParseAddr takes is no name.
func usableNameReference(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err != nil
}

// TestUsableNameAgainstReference compares usableName with ParseAddr alone on address literals, names and
// random strings over the characters both care about.
func TestUsableNameAgainstReference(t *testing.T) {
	cases := []string{"", "198.18.0.1", "[198.18.0.1]", "198.18.0", "1.2.3.4.5", "01.2.3.4", "2001:2::1", "[2001:2::1]",
		"fe80::1%eth0", "::ffff:198.18.0.1", "login.microsoftonline.com", "cafe.be", "deadbeef", "a:b", "1.2.3.4%x",
		"%eth0", "[]", "]198.18.0.1[", "1e100.net", "localhost", "1.2.3.4:443", "…", "198.18.0.1\x00"}
	rng := rand.New(rand.NewPCG(9, 10))
	const alphabet = "0123456789.:%[]abcfgz-"
	for range 200000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := usableName(s), usableNameReference(s); got != want {
			t.Fatalf("usableName(%q) = %v, reference %v", s, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { usableName("login.microsoftonline.com") }); n != 0 {
		t.Errorf("usableName of a host name allocates %v times", n)
	}
}
