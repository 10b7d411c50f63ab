package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func mustCert(t *testing.T, tmpl, parent *x509.Certificate, pub, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &pub.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestJudgeChain(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0)}
	}
	leafTmpl := func(name string, notAfter time.Time) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
			NotBefore: now.AddDate(0, -1, 0), NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	}
	rootKey, inspKey, leafKey := mustKey(t), mustKey(t), mustKey(t)
	root := mustCert(t, caTmpl("root"), caTmpl("root"), rootKey, rootKey)
	insp := mustCert(t, caTmpl("inspection"), caTmpl("inspection"), inspKey, inspKey)
	rootFile := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	roots, err := RootsFromFile(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	good := mustCert(t, leafTmpl("a.manage.microsoft.com", now.AddDate(0, 3, 0)), root, leafKey, rootKey)
	expired := mustCert(t, leafTmpl("a.manage.microsoft.com", now.AddDate(0, 0, -1)), root, leafKey, rootKey)
	other := mustCert(t, leafTmpl("www.example.net", now.AddDate(0, 3, 0)), root, leafKey, rootKey)
	resigned := mustCert(t, leafTmpl("a.manage.microsoft.com", now.AddDate(0, 3, 0)), insp, leafKey, inspKey)
	tests := []struct {
		name  string
		chain []*x509.Certificate
		want  Chain
	}{
		{"public", []*x509.Certificate{good}, ChainPublic},
		{"expired", []*x509.Certificate{expired}, ChainExpired},
		{"name mismatch", []*x509.Certificate{other}, ChainNameMismatch},
		{"inspection CA", []*x509.Certificate{resigned, insp}, ChainPrivate},
		{"self-signed", []*x509.Certificate{insp}, ChainPrivate},
		{"no certificate", nil, ChainPrivate},
	}
	for _, tt := range tests {
		if got := roots.judgeChain(tt.chain, "a.manage.microsoft.com", now); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	// The built-in public roots do not know the lab's root.
	public, err := PublicRoots()
	if err != nil {
		t.Fatal(err)
	}
	if got := public.judgeChain([]*x509.Certificate{good}, "a.manage.microsoft.com", now); got != ChainPrivate {
		t.Errorf("public roots: %s, want private", got)
	}
}
