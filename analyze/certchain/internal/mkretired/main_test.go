package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"
)

// root makes a self-signed CA certificate with the given subject.
func root(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWindowOf(t *testing.T) {
	plain := root(t, pkix.Name{CommonName: "Plain Root", Organization: []string{"Plain"}})
	symantec := root(t, pkix.Name{CommonName: "VeriSign Test Root", Organization: []string{"VeriSign, Inc."}})
	trustcor := root(t, pkix.Name{CommonName: "TrustCor Test", Organization: []string{"TrustCor Systems S. de R.L."}})
	snap := func(date string, after map[digest]string, certs ...*x509.Certificate) *snapshot {
		s := &snapshot{src: &source{module: "m", version: "v" + date}, date: date, roots: map[digest]*x509.Certificate{}, after: after}
		for _, c := range certs {
			s.roots[sha256.Sum256(c.Raw)] = c
		}
		return s
	}
	h := func(c *x509.Certificate) digest { return sha256.Sum256(c.Raw) }
	snaps := []*snapshot{
		snap("2018-01-18", nil, plain, symantec, trustcor),
		snap("2019-01-04", nil, plain, symantec, trustcor),
		snap("2020-09-22", map[digest]string{h(trustcor): "2023-01-01T00:00:00Z"}, symantec, trustcor),
		snap("2024-05-07", nil),
	}
	tests := []struct {
		name string
		c    *x509.Certificate
		want window
	}{
		{"ends at the first bundle without it", plain, window{first: "2018-01-18", last: "2019-01-04", until: "2020-09-22", source: "m@v2019-01-04"}},
		{"symantec ends at the distrust", symantec, window{first: "2018-01-18", last: "2020-09-22", until: "2018-10-16", source: "m@v2020-09-22", why: distrustOf(symantec).why}},
		{"the earlier distrust-after wins", trustcor, window{first: "2018-01-18", last: "2020-09-22", until: "2024-05-07", after: "2022-11-30T00:00:00Z", source: "m@v2020-09-22", why: distrustOf(trustcor).why}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := windowOf(h(tc.c), tc.c, snaps); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDistrustOf(t *testing.T) {
	tests := []struct {
		subject pkix.Name
		omit    bool
		until   string
	}{
		{pkix.Name{CommonName: "CA 沃通根证书", Organization: []string{"WoSign CA Limited"}}, true, ""},
		{pkix.Name{CommonName: "StartCom Certification Authority", Organization: []string{"StartCom Ltd."}}, true, ""},
		{pkix.Name{CommonName: "TÜRKTRUST Elektronik Sertifika Hizmet Sağlayıcısı H5"}, true, ""},
		{pkix.Name{CommonName: "GeoTrust Global CA", Organization: []string{"GeoTrust Inc."}}, false, "2018-10-16"},
		{pkix.Name{CommonName: "thawte Primary Root CA", Organization: []string{"thawte, Inc."}}, false, "2018-10-16"},
		{pkix.Name{CommonName: "DST Root CA X3", Organization: []string{"Digital Signature Trust Co."}}, false, ""},
	}
	for _, tc := range tests {
		d := distrustOf(root(t, tc.subject))
		if tc.omit || tc.until != "" {
			if d == nil || d.omit != tc.omit || d.until != tc.until {
				t.Errorf("%s: %+v", tc.subject, d)
			}
		} else if d != nil {
			t.Errorf("%s: distrusted: %+v", tc.subject, d)
		}
	}
}

// TestDistrustAfter reads both layouts of fallback's bundle.go.
func TestDistrustAfter(t *testing.T) {
	src := `
	{
		cn:         "CN=A",
		sha256Hash: "0101010101010101010101010101010101010101010101010101010101010101",
		pem: ` + "`-----BEGIN CERTIFICATE-----`" + `,
		distrustAfter: "2024-11-30T23:59:59Z",
	},
	{
		cn:           "CN=B",
		sha256Hash:   "0202020202020202020202020202020202020202020202020202020202020202",
		certStartOff: 0,
		certLength:   626,
	},
	{
		cn:            "CN=C",
		sha256Hash:    "0303030303030303030303030303030303030303030303030303030303030303",
		certStartOff:  626,
		certLength:    2007,
		distrustAfter: "2026-04-15T23:59:59Z",
	},`
	got := distrustAfter([]byte(src))
	want := map[digest]string{{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}: "2024-11-30T23:59:59Z",
		{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}: "2026-04-15T23:59:59Z"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for h, a := range want {
		if got[h] != a {
			t.Errorf("%x: %q, want %q", h, got[h], a)
		}
	}
}

// TestPemCerts reads PEM inside Go source, the block opening mid-line as in fallback's 2025 bundle.go,
// and notes a certificate crypto/x509 refuses.
func TestPemCerts(t *testing.T) {
	c := root(t, pkix.Name{CommonName: "Inline"})
	block := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})) // ends with a newline, as there
	bad := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0}}))
	src := "\t\tpem: `" + block + "`,\n\t\tpem: `" + bad + "`,\n"
	unparsed := map[digest]string{}
	certs, err := pemCerts([]byte(src), unparsed)
	if err != nil || len(certs) != 1 || certs[0].Subject.CommonName != "Inline" || len(unparsed) != 1 {
		t.Errorf("%d certs, %d unparsed, %v", len(certs), len(unparsed), err)
	}
}

// TestReadNamed reads the committed retired.pem: fifty certificates, each named by the line before it.
func TestReadNamed(t *testing.T) {
	data, err := os.ReadFile("../../retired.pem")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readNamed(data)
	if err != nil || len(got) != 50 {
		t.Fatalf("%d, %v", len(got), err)
	}
	if got[0].name != "AffirmTrust_Commercial" || got[6].name != "Baltimore_CyberTrust_Root" || got[6].cert.Subject.CommonName != "Baltimore CyberTrust Root" {
		t.Errorf("%q, %q %q", got[0].name, got[6].name, got[6].cert.Subject.CommonName)
	}
}

func TestNameOf(t *testing.T) {
	tests := []struct {
		subject pkix.Name
		want    string
	}{
		{pkix.Name{CommonName: "GlobalSign", Organization: []string{"GlobalSign"}, OrganizationalUnit: []string{"GlobalSign Root CA - R2"}}, "GlobalSign Root CA - R2"},
		{pkix.Name{Organization: []string{"Starfield Technologies, Inc."}, OrganizationalUnit: []string{"Starfield Class 2 Certification Authority"}}, "Starfield Class 2 Certification Authority"},
		{pkix.Name{CommonName: "DST Root CA X3", Organization: []string{"Digital Signature Trust Co."}}, "DST Root CA X3"},
		{pkix.Name{Organization: []string{"Only O"}}, "Only O"},
	}
	for _, tc := range tests {
		if got := nameOf(root(t, tc.subject)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.subject, got, tc.want)
		}
	}
}
