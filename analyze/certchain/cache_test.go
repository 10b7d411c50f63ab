package certchain

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"
)

// cacheCase is a verifier and a chain to classify with it, at instants chosen around what could change
// the answer.
type cacheCase struct {
	name string
	v    *Verifier
	in   Input
}

// cacheCases are the chains of TestCheck, TestRetiredChains and TestRetiredWindow: public, private,
// trusted, expired, name-mismatch, partial, retired inside and after its window, unparsable.
func cacheCases(t *testing.T) []cacheCase {
	public := publicRoots(t)
	inspect := newCert(t, caTemplate("Contoso SSL Inspection CA"), nil)
	leaf := newCert(t, leafTemplate(enrolment, "*.manage.microsoft.com"), &inspect)
	self := newCert(t, leafTemplate(enrolment), nil)
	shortCA := newCert(t, &x509.Certificate{Subject: caTemplate("Contoso Short CA").Subject, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: t2026.AddDate(-1, 0, 0), NotAfter: t2026.AddDate(0, 1, 0)}, &inspect)
	underShort := newCert(t, leafTemplate(enrolment), &shortCA)
	plain := NewVerifier(public, nil)
	trusting := NewVerifier(public, pemRoots(t, inspect))

	retiredCA := newCert(t, caTemplate("Retired Test Root"), nil)
	tmpl := leafTemplate(enrolment)
	tmpl.NotBefore, tmpl.NotAfter = t2026.AddDate(0, -6, 0), t2026.AddDate(0, 6, 0)
	underRetired := newCert(t, tmpl, &retiredCA)
	rr := newRetiredRoots()
	headers := map[string]string{"Trusted-Until": t2026.AddDate(0, 1, 0).Format(time.DateOnly)}
	if err := rr.add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: headers, Bytes: retiredCA.der})); err != nil {
		t.Fatal(err)
	}
	window := NewVerifier(&Roots{pool: x509.NewCertPool(), retired: rr}, nil)

	google, _ := googleChain(t)
	play, _ := readChain(t, "play-googleapis-2020-chain.txt")
	heise, _ := readChain(t, "heise-2021-chain.txt")
	apple, _ := readChain(t, "apple-symantec-2018-chain.txt")
	ge, _ := readChain(t, "ge-inspection-2019-chain.txt")
	return []cacheCase{
		{"inspection ca", plain, Input{Chain: [][]byte{leaf.der, inspect.der}, SNI: enrolment}},
		{"inspection ca, trusted", trusting, Input{Chain: [][]byte{leaf.der, inspect.der}, SNI: enrolment}},
		{"inspection ca, trusted, other name", trusting, Input{Chain: [][]byte{leaf.der}, SNI: "login.microsoftonline.com"}},
		{"self-signed", plain, Input{Chain: [][]byte{self.der}, SNI: enrolment}},
		{"intermediate shorter than the leaf, trusted", trusting, Input{Chain: [][]byte{underShort.der, shortCA.der}, SNI: enrolment}},
		{"intermediate shorter than the leaf", plain, Input{Chain: [][]byte{underShort.der, shortCA.der}, SNI: enrolment}},
		{"partial", plain, Input{Chain: [][]byte{leaf.der}, Partial: true, SNI: enrolment}},
		{"google", plain, Input{Chain: google, SNI: "www.google.com"}},
		{"google, no sni", plain, Input{Chain: google}},
		{"google, other name", plain, Input{Chain: google, SNI: enrolment}},
		{"google, partial", plain, Input{Chain: google[:2], Partial: true, SNI: "www.google.com"}},
		{"google leaf alone", plain, Input{Chain: google[:1], SNI: "www.google.com"}},
		{"play.googleapis.com (retired root)", plain, Input{Chain: play, SNI: "play.googleapis.com"}},
		{"heise.de (retired root)", plain, Input{Chain: heise, SNI: "heise.de"}},
		{"xp.apple.com (distrusted root)", plain, Input{Chain: apple, SNI: "xp.apple.com"}},
		{"inspection ca of 2019", plain, Input{Chain: ge, SNI: "supportingfunctions.us.newsweaver.com"}},
		{"retired root made here", window, Input{Chain: [][]byte{underRetired.der}, SNI: enrolment}},
		{"garbage leaf", plain, Input{Chain: [][]byte{{0x30, 0x03, 1, 2, 3}}}},
	}
}

// instants returns the times worth checking a case at: each bound of the chain and of the roots that are
// not too far from them (and a nanosecond either side), and random instants between.
func instants(c cacheCase, rng *rand.Rand) []time.Time {
	var bounds []time.Time
	for _, der := range c.in.Chain {
		if cert, err := x509.ParseCertificate(der); err == nil {
			bounds = append(bounds, cert.NotBefore, cert.NotAfter)
		}
	}
	if c.v.retired != nil {
		for _, until := range c.v.retired.until {
			bounds = append(bounds, until)
		}
	}
	bounds = append(bounds, t2026)
	var out []time.Time
	for _, b := range bounds {
		out = append(out, b.Add(-time.Nanosecond), b, b.Add(time.Nanosecond), b.Add(-time.Hour), b.Add(time.Hour))
	}
	lo, hi := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 40 {
		out = append(out, lo.Add(time.Duration(rng.Int64N(int64(hi.Sub(lo))))))
	}
	return out
}

// TestCacheMatchesVerifier holds the Cache to the Verifier it wraps: every case at every instant, in a
// shuffled order, so that answers are reused across instants, names and chains, and each must equal a
// fresh Check's, error text included.
func TestCacheMatchesVerifier(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type probe struct {
		c  cacheCase
		at time.Time
	}
	var probes []probe
	for _, c := range cacheCases(t) {
		for _, at := range instants(c, rng) {
			probes = append(probes, probe{c, at})
		}
	}
	rng.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
	caches := map[*Verifier]*Cache{}
	hits := 0
	for _, p := range probes {
		cache := caches[p.c.v]
		if cache == nil {
			cache = NewCache(p.c.v)
			caches[p.c.v] = cache
		}
		in := p.c.in
		in.Time = p.at
		before := len(cache.entries)
		got, want := cache.Check(in), p.c.v.Check(in)
		if len(cache.entries) == before {
			hits++
		}
		if !sameResult(got, want) {
			t.Fatalf("%s at %s: cache %+v, verifier %+v", p.c.name, p.at.Format(time.RFC3339Nano), got, want)
		}
	}
	if hits < len(probes)/2 {
		t.Errorf("only %d of %d checks found their chain remembered", hits, len(probes))
	}
}

// sameResult compares two results, errors by their text.
func sameResult(a, b Result) bool {
	ea, eb := a.Err, b.Err
	a.Err, b.Err = nil, nil
	return reflect.DeepEqual(a, b) && (ea == nil) == (eb == nil) && (ea == nil || ea.Error() == eb.Error())
}

// TestCacheBound checks that a Cache forgets what it holds once full, and still answers right.
func TestCacheBound(t *testing.T) {
	v := NewVerifier(publicRoots(t), nil)
	c := NewCache(v)
	c.max = 8
	google, at := googleChain(t)
	for i := range 3 * c.max {
		in := Input{Chain: google, SNI: fmt.Sprintf("host%d.example", i%(2*c.max)), Time: at}
		if got, want := c.Check(in), v.Check(in); !sameResult(got, want) {
			t.Fatalf("check %d: %+v, want %+v", i, got, want)
		}
		if len(c.entries) > c.max {
			t.Fatalf("%d chains remembered, more than %d", len(c.entries), c.max)
		}
	}
}

// BenchmarkCacheHit classifies Google's real chain again: the cost per TLS 1.2 connection to a server seen
// before (BenchmarkCheckPublic is the first time).
func BenchmarkCacheHit(b *testing.B) {
	google, at := googleChain(b)
	c := NewCache(NewVerifier(publicRoots(b), nil))
	in := Input{Chain: google, SNI: "www.google.com", Time: at}
	c.Check(in)
	b.ReportAllocs()
	for b.Loop() {
		in.Time = in.Time.Add(time.Second)
		if r := c.Check(in); r.Class != Public {
			b.Fatal(r.Class, r.Err)
		}
	}
}

// TestPublicVerifierMatchesVerifier holds a NewPublicVerifier, which builds its roots on the first chain, to
// a NewVerifier over PublicRoots: the same answers for every case of the cache tests that uses the public
// roots, with and without a trust file, when many goroutines ask it their first chains at once (run with
// -race to check the first use).
func TestPublicVerifierMatchesVerifier(t *testing.T) {
	inspect := newCert(t, caTemplate("Contoso SSL Inspection CA"), nil)
	trust := pemRoots(t, inspect)
	eager := map[bool]*Verifier{false: NewVerifier(publicRoots(t), nil), true: NewVerifier(publicRoots(t), trust)}
	var inputs []Input
	for _, c := range cacheCases(t) {
		if c.v.retired == nil || len(c.v.retired.until) < 10 { // the case's own verifier is not a public one
			continue
		}
		for _, at := range []time.Time{t2026, t2026.AddDate(-6, 0, 0)} {
			in := c.in
			in.Time = at
			inputs = append(inputs, in)
		}
	}
	if len(inputs) < 20 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for _, withTrust := range []bool{false, true} {
		var trusted *Roots
		if withTrust {
			trusted = trust
		}
		lazy := NewPublicVerifier(trusted)
		got := make([]Result, len(inputs))
		var wg sync.WaitGroup
		for i := range inputs {
			wg.Go(func() { got[i] = lazy.Check(inputs[i]) })
		}
		wg.Wait()
		for i, in := range inputs {
			if want := eager[withTrust].Check(in); !sameResult(got[i], want) {
				t.Errorf("trust %v, input %d: lazy %+v, eager %+v", withTrust, i, got[i], want)
			}
		}
	}
	if v := NewPublicVerifier(nil); v.public != nil {
		t.Error("roots built before the first chain")
	} else if r := v.Check(Input{Time: t2026}); r.Class != Hidden || v.public != nil {
		t.Errorf("no chain: %+v, and roots built %v; want hidden without building them", r, v.public != nil)
	}
}
