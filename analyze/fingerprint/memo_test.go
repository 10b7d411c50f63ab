package fingerprint_test

import (
	"math/rand/v2"
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
)

// checkMemo holds a Memo to the functions it stands for: asked twice (the second answer comes from the memo
// when the facts fit its key), it gives what JA4, JA3, JA4S and JA3S give.
func checkMemo(t *testing.T, m *fingerprint.Memo, c fingerprint.ClientFacts, s fingerprint.ServerFacts, tr fingerprint.Transport) {
	t.Helper()
	wantC := fingerprint.ClientPrints{JA4: fingerprint.JA4(c, tr), JA3: fingerprint.JA3(c)}
	wantS := fingerprint.ServerPrints{JA4S: fingerprint.JA4S(s, tr), JA3S: fingerprint.JA3S(s)}
	for range 2 {
		if got := m.Client(c, tr); got != wantC {
			t.Fatalf("memo client %+v, direct %+v (facts %+v, transport %c)", got, wantC, c, tr)
		}
		if got := m.Server(s, tr); got != wantS {
			t.Fatalf("memo server %+v, direct %+v (facts %+v, transport %c)", got, wantS, s, tr)
		}
	}
}

// randomFacts draws hello facts from a small alphabet, GREASE values and empty lists included, so that
// different draws often share an entry and GREASE lands anywhere.
func randomFacts(rng *rand.Rand) (fingerprint.ClientFacts, fingerprint.ServerFacts, fingerprint.Transport) {
	values := []uint16{0, 0x10, 0x0a0a, 0xfafa, 0x1301, 0x1302, 0x0303, 0x0304, 0x002b, 0x0403, 0xc02b, 0x1a1a}
	list := func() []uint16 {
		out := make([]uint16, rng.IntN(5))
		for i := range out {
			out[i] = values[rng.IntN(len(values))]
		}
		return out
	}
	c := fingerprint.ClientFacts{LegacyVersion: values[rng.IntN(len(values))], Ciphers: list(), Extensions: list(),
		Groups: list(), SigAlgs: list(), Versions: list(), PointFormats: []byte{0, 1, 2}[:rng.IntN(3)]}
	alpn := []string{"h2", "http/1.1", "\x00x", "a", ""}
	for range rng.IntN(3) {
		c.ALPN = append(c.ALPN, alpn[rng.IntN(len(alpn))])
	}
	s := fingerprint.ServerFacts{LegacyVersion: values[rng.IntN(len(values))], Cipher: values[rng.IntN(len(values))],
		Extensions: list(), ALPN: alpn[rng.IntN(len(alpn))]}
	if rng.IntN(2) == 0 {
		s.SelectedVersion = values[rng.IntN(len(values))]
	}
	return c, s, transports[rng.IntN(len(transports))]
}

// TestMemoAgainstDirect runs one Memo over many random hellos (past its cap, so it starts over several
// times) and compares every answer with the functions it stands for.
func TestMemoAgainstDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var m fingerprint.Memo
	for range 20000 {
		c, s, tr := randomFacts(rng)
		checkMemo(t, &m, c, s, tr)
	}
}

// TestMemoCases covers what the random draws rarely meet: hellos that differ only in their GREASE, in a
// list's boundaries, in ALPN values after the first, and hellos too large for a key.
func TestMemoCases(t *testing.T) {
	long := make([]uint16, 300)
	for i := range long {
		long[i] = uint16(i)
	}
	tests := []struct {
		name string
		a, b fingerprint.ClientFacts
	}{
		{"GREASE anywhere", foxio, withGREASE(foxio)},
		{"a value moved to the next list",
			fingerprint.ClientFacts{Ciphers: []uint16{1, 2}, Extensions: []uint16{3}},
			fingerprint.ClientFacts{Ciphers: []uint16{1}, Extensions: []uint16{2, 3}}},
		{"point formats against ALPN",
			fingerprint.ClientFacts{PointFormats: []byte{'h'}, ALPN: []string{"2"}},
			fingerprint.ClientFacts{ALPN: []string{"h2"}}},
		{"second ALPN value", fingerprint.ClientFacts{ALPN: []string{"h2", "x"}}, fingerprint.ClientFacts{ALPN: []string{"h2"}}},
		{"too long for a key", fingerprint.ClientFacts{Ciphers: long}, fingerprint.ClientFacts{Ciphers: long[:299]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m fingerprint.Memo
			for _, tr := range transports {
				checkMemo(t, &m, tc.a, fingerprint.ServerFacts{Extensions: tc.a.Extensions}, tr)
				checkMemo(t, &m, tc.b, fingerprint.ServerFacts{Extensions: tc.b.Extensions}, tr)
			}
		})
	}
}

// withGREASE returns c with GREASE values before, between and after the values of every list.
func withGREASE(c fingerprint.ClientFacts) fingerprint.ClientFacts {
	spread := func(vals []uint16) []uint16 {
		out := []uint16{0x3a3a}
		for _, v := range vals {
			out = append(out, v, 0xdada)
		}
		return out
	}
	c.Ciphers, c.Extensions, c.Groups = spread(c.Ciphers), spread(c.Extensions), spread(c.Groups)
	c.SigAlgs, c.Versions = spread(c.SigAlgs), spread(c.Versions)
	return c
}

// TestMemoAllocs: a hello met before costs no allocation.
func TestMemoAllocs(t *testing.T) {
	var m fingerprint.Memo
	server := fingerprint.ServerFacts{LegacyVersion: 0x0303, SelectedVersion: 0x0304, Cipher: 0x1301, Extensions: []uint16{43, 51}}
	m.Client(foxio, fingerprint.TCP)
	m.Server(server, fingerprint.TCP)
	grease := withGREASE(foxio)
	if n := testing.AllocsPerRun(100, func() {
		m.Client(grease, fingerprint.TCP)
		m.Server(server, fingerprint.TCP)
	}); n != 0 {
		t.Errorf("a remembered hello allocates %v times", n)
	}
}

// BenchmarkMemo: the cost of a hello met before, against computing its fingerprints.
func BenchmarkMemo(b *testing.B) {
	server := fingerprint.ServerFacts{LegacyVersion: 0x0303, SelectedVersion: 0x0304, Cipher: 0x1301, Extensions: []uint16{43, 51}, ALPN: "h2"}
	b.Run("client", func(b *testing.B) {
		var m fingerprint.Memo
		b.ReportAllocs()
		for b.Loop() {
			m.Client(foxio, fingerprint.TCP)
		}
	})
	b.Run("client-direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fingerprint.JA4(foxio, fingerprint.TCP)
			fingerprint.JA3(foxio)
		}
	})
	b.Run("server", func(b *testing.B) {
		var m fingerprint.Memo
		b.ReportAllocs()
		for b.Loop() {
			m.Server(server, fingerprint.TCP)
		}
	})
}
