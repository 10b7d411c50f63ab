package certchain

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// TestRetiredChains verifies real chains of the shared captures that end at roots Mozilla removed from its
// store before 2023: public and Retired at the capture's time, private once the root's window has ended
// (the leaf still valid then, where its dates allow), whatever the leaf's validity says.
func TestRetiredChains(t *testing.T) {
	v := NewVerifier(publicRoots(t), nil)
	play, playAt := readChain(t, "play-googleapis-2020-chain.txt")
	heise, heiseAt := readChain(t, "heise-2021-chain.txt")
	apple, appleAt := readChain(t, "apple-symantec-2018-chain.txt")
	ge, geAt := readChain(t, "ge-inspection-2019-chain.txt")
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name    string
		in      Input
		class   Class
		retired bool
		issuer  string
		errText string
	}{
		// GTS CA 1O1 under GlobalSign Root CA - R2: in the bundles of 2018-01-18 to 2021-05-07, not in 2023's.
		{"play.googleapis.com in 2020", Input{Chain: play, SNI: "play.googleapis.com", Time: playAt}, Public, true, "GTS CA 1O1", ""},
		{"play.googleapis.com, the day before the window ends", Input{Chain: play, SNI: "play.googleapis.com", Time: day("2023-03-10")}, Expired, true, "GTS CA 1O1", "expired"},
		{"play.googleapis.com after the window", Input{Chain: play, SNI: "play.googleapis.com", Time: day("2023-03-11")}, Private, false, "GTS CA 1O1", "GlobalSign Root CA - R2"},
		{"play.googleapis.com in 2026", Input{Chain: play, SNI: "play.googleapis.com", Time: t2026}, Private, false, "GTS CA 1O1", "trusted until 2023-03-11"},
		{"play.googleapis.com for another name", Input{Chain: play, SNI: enrolment, Time: playAt}, NameMismatch, true, "GTS CA 1O1", "not " + enrolment},
		// Let's Encrypt R3 cross-signed by DST Root CA X3, which expired in September 2021.
		{"heise.de in 2021", Input{Chain: heise, SNI: "heise.de", Time: heiseAt}, Public, true, "R3", ""},
		{"heise.de after the window", Input{Chain: heise, SNI: "heise.de", Time: day("2023-03-11")}, Private, false, "R3", "DST Root CA X3"},
		// Symantec's EV CA under VeriSign's G5 root: trusted until Chrome 70 distrusted every Symantec root.
		{"xp.apple.com in April 2018", Input{Chain: apple, SNI: "xp.apple.com", Time: appleAt}, Public, true, "Symantec Class 3 EV SSL CA - G3", ""},
		{"xp.apple.com the day before the distrust", Input{Chain: apple, SNI: "xp.apple.com", Time: day("2018-10-15")}, Public, true, "Symantec Class 3 EV SSL CA - G3", ""},
		{"xp.apple.com after the distrust, leaf still valid", Input{Chain: apple, SNI: "xp.apple.com", Time: day("2018-10-16")}, Private, false, "Symantec Class 3 EV SSL CA - G3", "no longer trusted at the capture time"},
		{"xp.apple.com in 2026", Input{Chain: apple, SNI: "xp.apple.com", Time: t2026}, Private, false, "Symantec Class 3 EV SSL CA - G3", "VeriSign"},
		// A company's inspection CA (behind a CONNECT proxy, 2019) chains to no retired root either.
		{"inspection ca of 2019", Input{Chain: ge, SNI: "supportingfunctions.us.newsweaver.com", Time: geAt}, Private, false, "GE External Issuing CA 201901141000", "unknown authority"},
	}
	// The root each chain verified to, where it did: the retired root, never a current one it may be cross-signed by.
	roots := map[string]string{
		"play.googleapis.com in 2020": "GlobalSign Root CA - R2", "play.googleapis.com, the day before the window ends": "GlobalSign Root CA - R2",
		"play.googleapis.com for another name": "GlobalSign Root CA - R2", "heise.de in 2021": "DST Root CA X3",
		"xp.apple.com in April 2018":               "VeriSign Class 3 Public Primary Certification Authority - G5",
		"xp.apple.com the day before the distrust": "VeriSign Class 3 Public Primary Certification Authority - G5",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := v.Check(tc.in)
			if r.Class != tc.class || r.Retired != tc.retired || r.Issuer != tc.issuer {
				t.Errorf("class %q retired %v issuer %q (err %v); want %q %v %q", r.Class, r.Retired, r.Issuer, r.Err, tc.class, tc.retired, tc.issuer)
			}
			if r.Root != roots[tc.name] {
				t.Errorf("root %q, want %q", r.Root, roots[tc.name])
			}
			if (tc.errText == "") != (r.Err == nil) || tc.errText != "" && !strings.Contains(r.Err.Error(), tc.errText) {
				t.Errorf("err %v, want one with %q", r.Err, tc.errText)
			}
			if tc.class == Private && errors.Is(r.Err, errRetiredThen) == (tc.errText == "unknown authority") {
				t.Errorf("err %v: errRetiredThen %v", r.Err, errors.Is(r.Err, errRetiredThen))
			}
		})
	}
}

// TestRetiredWindow checks the two bounds of a retired root with a CA made here: Trusted-Until on the
// capture time, Distrust-After on the leaf's issuance.
func TestRetiredWindow(t *testing.T) {
	ca := newCert(t, caTemplate("Retired Test Root"), nil)
	issued := func(notBefore time.Time) []byte {
		tmpl := leafTemplate(enrolment)
		tmpl.NotBefore, tmpl.NotAfter = notBefore, notBefore.AddDate(1, 0, 0)
		return newCert(t, tmpl, &ca).der
	}
	before, after := issued(t2026.AddDate(0, -6, 0)), issued(t2026.AddDate(0, -1, 0))
	old := issued(t2026.AddDate(-2, 0, 0))                 // valid until a year before t2026
	end := t2026.AddDate(0, 1, 0).Truncate(24 * time.Hour) // Trusted-Until is a date: the window ends at its midnight
	headers := map[string]string{"Trusted-Until": end.Format(time.DateOnly), "Distrust-After": t2026.AddDate(0, -3, 0).Format(time.RFC3339)}
	rr := newRetiredRoots()
	if err := rr.add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: headers, Bytes: ca.der})); err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(&Roots{pool: x509.NewCertPool(), retired: rr}, nil)
	tests := []struct {
		name  string
		leaf  []byte
		at    time.Time
		class Class
	}{
		{"issued before distrust-after, inside the window", before, t2026, Public},
		{"issued after distrust-after", after, t2026, Private},
		{"last second of the window", before, end.Add(-time.Second), Public},
		{"first second after the window", before, end, Private},
		{"expired leaf inside the window", old, t2026, Expired},
		{"expired leaf after the window", old, end, Private},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := v.Check(Input{Chain: [][]byte{tc.leaf}, SNI: enrolment, Time: tc.at})
			if r.Class != tc.class || r.Retired != (tc.class != Private) {
				t.Errorf("class %q retired %v (%v), want %q", r.Class, r.Retired, r.Err, tc.class)
			}
			if (r.Root == "Retired Test Root") != (tc.class != Private) || tc.class == Private && r.Root != "" {
				t.Errorf("root %q for a %q chain", r.Root, r.Class)
			}
		})
	}
}

// TestRetiredFiles checks the embedded retired roots: every block is a certificate with a valid window,
// none is listed twice or is in the current bundle, and no root of a CA distrusted before 2018 is there.
func TestRetiredFiles(t *testing.T) {
	current := map[[32]byte]bool{}
	for r := range bundle.Roots() {
		current[sha256.Sum256(r.Certificate)] = true
	}
	pinned := time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC) // the pinned bundle's date: every retired root has left by then
	seen := map[[32]byte]string{}
	for _, f := range []struct {
		name string
		data []byte
		n    int
	}{{"retired.pem", retiredPEM, 50}, {"retired-bundles.pem", retiredBundlesPEM, 48}} {
		n := 0
		for data := f.data; ; n++ {
			var b *pem.Block
			if b, data = pem.Decode(data); b == nil {
				break
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if b.Type != "CERTIFICATE" || err != nil {
				t.Fatalf("%s block %d: %s %v", f.name, n+1, b.Type, err)
			}
			h := sha256.Sum256(b.Bytes)
			if current[h] {
				t.Errorf("%s: %s is in the current bundle", f.name, c.Subject)
			}
			if prev, dup := seen[h]; dup {
				t.Errorf("%s: %s already in %s", f.name, c.Subject, prev)
			}
			seen[h] = f.name
			until, err := time.Parse(time.DateOnly, b.Headers["Trusted-Until"])
			if err != nil || until.After(pinned) || b.Headers["Bundles"] == "" {
				t.Errorf("%s: %s: Trusted-Until %q (%v), Bundles %q", f.name, c.Subject, b.Headers["Trusted-Until"], err, b.Headers["Bundles"])
			}
			if a := b.Headers["Distrust-After"]; a != "" {
				if _, err := time.Parse(time.RFC3339, a); err != nil {
					t.Errorf("%s: %s: %v", f.name, c.Subject, err)
				}
			}
			subject := strings.ToLower(c.Subject.String())
			for _, w := range []string{"wosign", "startcom", "cnnic", "türktrust", "diginotar", "certinomis", "camerfirma"} {
				if strings.Contains(subject, w) {
					t.Errorf("%s: %s, a CA distrusted for cause", f.name, c.Subject)
				}
			}
			if strings.Contains(subject, "verisign") || strings.Contains(subject, "geotrust") || strings.Contains(subject, "thawte") {
				if until.After(time.Date(2018, 10, 16, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("%s: %s (Symantec) trusted until %s", f.name, c.Subject, until.Format(time.DateOnly))
				}
			}
		}
		if n != f.n {
			t.Errorf("%s: %d certificates, want %d", f.name, n, f.n)
		}
	}
}

// TestRetiredAdd checks what the embedded files' reader refuses.
func TestRetiredAdd(t *testing.T) {
	ca := newCert(t, caTemplate("Retired Test Root"), nil)
	block := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
	}
	good := block("CERTIFICATE", ca.der, map[string]string{"Trusted-Until": "2023-03-11"})
	tests := []struct {
		name, data, errText string
	}{
		{"good", good, ""},
		{"empty", "", "no PEM certificate"},
		{"no window", block("CERTIFICATE", ca.der, nil), "Trusted-Until"},
		{"bad window", block("CERTIFICATE", ca.der, map[string]string{"Trusted-Until": "2023-3-11"}), "Trusted-Until"},
		{"bad distrust-after", block("CERTIFICATE", ca.der, map[string]string{"Trusted-Until": "2023-03-11", "Distrust-After": "2022-11-30"}), "Distrust-After"},
		{"twice", good + good, "pem block 2: CN=Retired Test Root,O=Contoso: listed twice"},
		{"a key", block("PRIVATE KEY", []byte{1}, nil), `pem block 1: "PRIVATE KEY"`},
		{"bad certificate", block("CERTIFICATE", []byte{1, 2}, map[string]string{"Trusted-Until": "2023-03-11"}), "pem block 1: x509"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := newRetiredRoots().add([]byte(tc.data))
			if (tc.errText == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("err %v, want one with %q", err, tc.errText)
			}
		})
	}
}
