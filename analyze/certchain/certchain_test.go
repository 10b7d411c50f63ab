package certchain

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// issued is a certificate with its key, for signing the next one.
type issued struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

var serial int64

// newCert makes a certificate for tmpl, signed by parent (self-signed when parent is nil).
func newCert(t testing.TB, tmpl *x509.Certificate, parent *issued) issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return issued{cert, der, key}
}

var (
	t2026     = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	enrolment = "enrollment.manage.microsoft.com"
)

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: cn, Organization: []string{"Contoso"}}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: t2026.AddDate(-5, 0, 0), NotAfter: t2026.AddDate(5, 0, 0),
	}
}

func leafTemplate(names ...string) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: t2026.AddDate(0, -1, 0), NotAfter: t2026.AddDate(0, 2, 0),
	}
}

// pemRoots makes a Roots of certificates, the way LoadTrust would read them.
func pemRoots(t testing.TB, certs ...issued) *Roots {
	var data []byte
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der})...)
	}
	path := filepath.Join(t.TempDir(), "trust.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := LoadTrust(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func publicRoots(t testing.TB) *Roots {
	r, err := PublicRoots()
	if err != nil || r.Len() < 100 {
		t.Fatalf("public roots: %d, %v", r.Len(), err)
	}
	return r
}

// googleChain is the TLS 1.2 chain of www.google.com in a shared capture, and the capture's time.
func googleChain(t testing.TB) ([][]byte, time.Time) {
	return readChain(t, "google-tls12-chain.txt")
}

// readChain reads a chain extracted from a capture (testdata/*-chain.txt, the format is at their top): the
// DER certificates as the server sent them, and the capture's time.
func readChain(t testing.TB, name string) ([][]byte, time.Time) {
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var chain [][]byte
	var at time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case at.IsZero():
			sec, err := strconv.ParseFloat(line, 64)
			if err != nil {
				t.Fatal(err)
			}
			at = time.Unix(int64(sec), 0)
		default:
			der, err := hex.DecodeString(line)
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, der)
		}
	}
	return chain, at
}

func TestCheck(t *testing.T) {
	public := publicRoots(t)
	inspect := newCert(t, caTemplate("Contoso SSL Inspection CA"), nil)
	leaf := newCert(t, leafTemplate(enrolment, "*.manage.microsoft.com"), &inspect)
	self := newCert(t, leafTemplate(enrolment), nil)
	other := newCert(t, caTemplate("Another CA"), nil)
	google, captured := googleChain(t)
	// An intermediate that expires a month before the leaf it signed (a misissued chain, or an old one).
	shortCA := newCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Contoso Short CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: t2026.AddDate(-1, 0, 0), NotAfter: t2026.AddDate(0, 1, 0)}, &inspect)
	underShort := newCert(t, leafTemplate(enrolment), &shortCA)

	plain := NewVerifier(public, nil)
	trusting := NewVerifier(public, pemRoots(t, inspect))
	tests := []struct {
		name    string
		v       *Verifier
		in      Input
		class   Class
		trusted bool
		issuer  string
		errText string
	}{
		{"inspection ca", plain, Input{Chain: [][]byte{leaf.der, inspect.der}, SNI: enrolment, Time: t2026}, Private, false, "Contoso SSL Inspection CA", "unknown authority"},
		{"inspection ca, leaf alone", plain, Input{Chain: [][]byte{leaf.der}, SNI: enrolment, Time: t2026}, Private, false, "Contoso SSL Inspection CA", "unknown authority"},
		{"self-signed", plain, Input{Chain: [][]byte{self.der}, SNI: enrolment, Time: t2026}, Private, false, enrolment, ""},
		{"inspection ca trusted by the user", trusting, Input{Chain: [][]byte{leaf.der, inspect.der}, SNI: enrolment, Time: t2026}, Public, true, "Contoso SSL Inspection CA", ""},
		{"trusted, wildcard name", trusting, Input{Chain: [][]byte{leaf.der}, SNI: "portal.manage.microsoft.com", Time: t2026}, Public, true, "Contoso SSL Inspection CA", ""},
		{"trusted, expired at capture", trusting, Input{Chain: [][]byte{leaf.der}, SNI: enrolment, Time: t2026.AddDate(1, 0, 0)}, Expired, true, "Contoso SSL Inspection CA", "expired"},
		{"trusted, not yet valid at capture", trusting, Input{Chain: [][]byte{leaf.der}, SNI: enrolment, Time: t2026.AddDate(-1, 0, 0)}, Expired, true, "Contoso SSL Inspection CA", "expired"},
		{"trusted, intermediate expired at capture", trusting, Input{Chain: [][]byte{underShort.der, shortCA.der}, SNI: enrolment, Time: t2026.AddDate(0, 1, 15)}, Expired, true, "Contoso Short CA", "expired"},
		{"trusted, intermediate still valid", trusting, Input{Chain: [][]byte{underShort.der, shortCA.der}, SNI: enrolment, Time: t2026}, Public, true, "Contoso Short CA", ""},
		{"untrusted, intermediate expired at capture", plain, Input{Chain: [][]byte{underShort.der, shortCA.der}, SNI: enrolment, Time: t2026.AddDate(0, 1, 15)}, Private, false, "Contoso Short CA", ""},
		{"trusted, other name", trusting, Input{Chain: [][]byte{leaf.der}, SNI: "login.microsoftonline.com", Time: t2026}, NameMismatch, true, "Contoso SSL Inspection CA", "not login.microsoftonline.com"},
		{"trust of another ca does not help", NewVerifier(public, pemRoots(t, other)), Input{Chain: [][]byte{leaf.der}, SNI: enrolment, Time: t2026}, Private, false, "Contoso SSL Inspection CA", ""},
		{"partial chain that does not verify", plain, Input{Chain: [][]byte{leaf.der}, Partial: true, SNI: enrolment, Time: t2026}, Unknown, false, "Contoso SSL Inspection CA", "not read whole"},
		{"google at capture time", plain, Input{Chain: google, SNI: "www.google.com", Time: captured}, Public, false, "GTS CA 1C3", ""},
		{"google without sni", plain, Input{Chain: google, Time: captured}, Public, false, "GTS CA 1C3", ""},
		{"google partial but verifies", plain, Input{Chain: google[:2], Partial: true, SNI: "www.google.com", Time: captured}, Public, false, "GTS CA 1C3", ""},
		{"google for another name", plain, Input{Chain: google, SNI: enrolment, Time: captured}, NameMismatch, false, "GTS CA 1C3", "not " + enrolment},
		{"google five years later", plain, Input{Chain: google, SNI: "www.google.com", Time: captured.AddDate(5, 0, 0)}, Expired, false, "GTS CA 1C3", "expired"},
		{"google leaf without intermediates", plain, Input{Chain: google[:1], SNI: "www.google.com", Time: captured}, Private, false, "GTS CA 1C3", "unknown authority"},
		{"no chain", plain, Input{SNI: enrolment, Time: t2026}, Hidden, false, "", ""},
		{"no capture time", plain, Input{Chain: google, SNI: "www.google.com"}, Unknown, false, "GTS CA 1C3", "no capture time"},
		{"garbage leaf", plain, Input{Chain: [][]byte{{0x30, 0x03, 1, 2, 3}}, Time: t2026}, Unknown, false, "", "parse leaf"},
		{"leaf over the byte cap", plain, Input{Chain: [][]byte{make([]byte, MaxChainBytes+1)}, Time: t2026}, Unknown, false, "", "more than 65536"},
		{"garbage intermediate", plain, Input{Chain: [][]byte{google[0], {1, 2}, google[1]}, SNI: "www.google.com", Time: captured}, Public, false, "GTS CA 1C3", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.v.Check(tc.in)
			if r.Class != tc.class || r.Trusted != tc.trusted || r.Issuer != tc.issuer {
				t.Errorf("class %q trusted %v issuer %q (err %v); want %q %v %q", r.Class, r.Trusted, r.Issuer, r.Err, tc.class, tc.trusted, tc.issuer)
			}
			if (tc.errText == "") != (r.Err == nil) && tc.class != Private || tc.errText != "" && !strings.Contains(r.Err.Error(), tc.errText) {
				t.Errorf("err %v, want one with %q", r.Err, tc.errText)
			}
			if len(tc.in.Chain) > 0 && r.SHA256 != digest(tc.in.Chain[0]) {
				t.Errorf("sha256 %s", r.SHA256)
			}
			if want := rootOf(tc.class, tc.trusted, tc.issuer); r.Root != want {
				t.Errorf("root %q, want %q", r.Root, want)
			}
		})
	}
}

// TestFacts checks the leaf's record fields, and their caps.
// rootOf is the root TestCheck's chains verify to: Google's to GTS Root R1, the trusted ones to the
// inspection CA (the short CA's chain too, through it); none for the others.
func rootOf(class Class, trusted bool, issuer string) string {
	switch {
	case class != Public && class != Expired && class != NameMismatch:
		return ""
	case trusted:
		return "Contoso SSL Inspection CA"
	case issuer == "GTS CA 1C3":
		return "GTS Root R1"
	}
	return "?"
}

func TestFacts(t *testing.T) {
	ca := newCert(t, caTemplate("Contoso SSL Inspection CA"), nil)
	names := make([]string, 30)
	for i := range names {
		names[i] = "host" + strconv.Itoa(i) + ".manage.microsoft.com"
	}
	leaf := newCert(t, leafTemplate(names...), &ca)
	noCN := newCert(t, &x509.Certificate{Subject: pkix.Name{Organization: []string{strings.Repeat("o", 300)}}, NotBefore: t2026, NotAfter: t2026.Add(time.Hour)}, nil)
	v := NewVerifier(publicRoots(t), nil)

	r := v.Check(Input{Chain: [][]byte{leaf.der}, Time: t2026})
	if r.Subject != "CN=host0.manage.microsoft.com" || len(r.SANs) != MaxSANs || r.SANs[19] != "host19.manage.microsoft.com" ||
		r.NotBefore != "2026-11-03T12:00:00Z" || r.NotAfter != "2027-02-03T12:00:00Z" {
		t.Errorf("%+v", r)
	}
	r = v.Check(Input{Chain: [][]byte{noCN.der}, Time: t2026})
	if len(r.Issuer) != MaxText || !strings.HasPrefix(r.Issuer, "O=ooo") || r.Subject != r.Issuer || r.Class != Private {
		t.Errorf("issuer without CN: %q %q %v", r.Issuer, r.Subject, r.Class)
	}
}

func TestLoadTrust(t *testing.T) {
	dir := t.TempDir()
	ca := newCert(t, caTemplate("Contoso SSL Inspection CA"), nil)
	good := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		n          int
		errText    string
	}{
		{"two certificates", write("two.pem", append(good, good...)), 2, ""},
		{"missing", filepath.Join(dir, "none.pem"), 0, "open trust file"},
		{"empty", write("empty.pem", nil), 0, "no PEM certificate"},
		{"der, not pem", write("ca.der", ca.der), 0, "no PEM certificate"},
		{"a key", write("key.pem", append(good, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...)), 0, `pem block 2 is "PRIVATE KEY"`},
		{"bad certificate", write("bad.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}})), 0, "pem block 1:"},
		{"too large", write("big.pem", make([]byte, MaxTrustFile+1)), 0, "larger than"},
		{"too many", write("many.pem", []byte(strings.Repeat(string(good), MaxTrustCerts+1))), 0, "more than 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := LoadTrust(tc.path)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want %q", err, tc.errText)
				}
				if tc.name != "missing" && !strings.Contains(err.Error(), tc.path) {
					t.Errorf("err %v does not name the file", err)
				}
				if tc.name == "missing" && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("err %v", err)
				}
				return
			}
			if err != nil || r.Len() != tc.n {
				t.Fatalf("%v, %d certs", err, r.Len())
			}
		})
	}
}
