package certchain

import (
	"crypto/x509"
	"testing"
	"time"
)

// FuzzChain checks arbitrary DER chains: no panic, a class from the list, facts within their caps, and a
// Cache that answers as the Verifier does at the capture time and at instants around it (the same
// instant again, a nanosecond and a year on, the leaf's bounds). The input is cut into certificates at
// each 0xff 0x00 0xff marker, so the fuzzer can mix real certificates with garbage and reorder them.
func FuzzChain(f *testing.F) {
	google, at := googleChain(f)
	sep := []byte{0xff, 0x00, 0xff}
	f.Add(cat(google[0], sep, google[1], sep, google[2]), at.Unix(), "www.google.com")
	f.Add(google[0], at.Unix(), "")
	play, playAt := readChain(f, "play-googleapis-2020-chain.txt") // under a retired root
	f.Add(cat(play[0], sep, play[1]), playAt.Unix(), "play.googleapis.com")
	f.Add([]byte{0x30, 0x82, 0x01}, int64(0), "x")
	v := NewVerifier(publicRoots(f), nil)
	f.Fuzz(func(t *testing.T, data []byte, sec int64, sni string) {
		var chain [][]byte
		for start, i := 0, 0; i <= len(data); i++ {
			if i == len(data) || i+3 <= len(data) && data[i] == 0xff && data[i+1] == 0 && data[i+2] == 0xff {
				chain = append(chain, data[start:i])
				start = i + 3
				i += 2
			}
		}
		var when time.Time
		if sec > 0 {
			when = time.Unix(sec%(1<<34), 0)
		}
		r := v.Check(Input{Chain: chain, SNI: sni, Time: when})
		switch r.Class {
		case Unknown, Public, Private, Expired, NameMismatch, Hidden:
		default:
			t.Fatalf("class %q", r.Class)
		}
		if len(r.SANs) > MaxSANs || len(r.Subject) > MaxText || len(r.Issuer) > MaxText {
			t.Fatalf("caps: %d SANs, subject %d, issuer %d", len(r.SANs), len(r.Subject), len(r.Issuer))
		}
		if (r.Class == Unknown) != (r.Err != nil && r.Class == Unknown) {
			t.Fatalf("unknown without a reason")
		}
		cache := NewCache(v)
		for _, at := range cacheInstants(when, chain) {
			in := Input{Chain: chain, SNI: sni, Time: at}
			if got, want := cache.Check(in), v.Check(in); !sameResult(got, want) {
				t.Fatalf("at %s: cache %+v, verifier %+v", at, got, want)
			}
		}
	})
}

// cacheInstants are the instants FuzzChain checks a Cache at: when, again, a nanosecond and a year later,
// and the leaf's NotBefore and NotAfter when it parses.
func cacheInstants(when time.Time, chain [][]byte) []time.Time {
	out := []time.Time{when, when}
	if !when.IsZero() {
		out = append(out, when.Add(time.Nanosecond), when.AddDate(1, 0, 0))
	}
	if len(chain) > 0 {
		if leaf, err := x509.ParseCertificate(chain[0]); err == nil {
			out = append(out, leaf.NotBefore, leaf.NotAfter, leaf.NotAfter.Add(time.Nanosecond))
		}
	}
	return out
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// BenchmarkCheckPublic classifies Google's real chain: the cost per TLS 1.2 connection.
func BenchmarkCheckPublic(b *testing.B) {
	google, at := googleChain(b)
	v := NewVerifier(publicRoots(b), nil)
	b.ReportAllocs()
	for b.Loop() {
		if r := v.Check(Input{Chain: google, SNI: "www.google.com", Time: at}); r.Class != Public {
			b.Fatal(r.Class, r.Err)
		}
	}
}

// BenchmarkCheckPrivate classifies an inspection CA's chain: it also tries the retired roots.
func BenchmarkCheckPrivate(b *testing.B) {
	ca := newCert(b, caTemplate("Contoso SSL Inspection CA"), nil)
	leaf := newCert(b, leafTemplate(enrolment), &ca)
	v := NewVerifier(publicRoots(b), nil)
	in := Input{Chain: [][]byte{leaf.der, ca.der}, SNI: enrolment, Time: t2026}
	b.ReportAllocs()
	for b.Loop() {
		if r := v.Check(in); r.Class != Private {
			b.Fatal(r.Class, r.Err)
		}
	}
}

// BenchmarkPublicRoots is the once-per-run cost of building the root pools.
func BenchmarkPublicRoots(b *testing.B) {
	for b.Loop() {
		if _, err := PublicRoots(); err != nil {
			b.Fatal(err)
		}
	}
}
