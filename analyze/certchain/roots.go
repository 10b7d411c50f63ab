package certchain

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

const (
	// MaxTrustFile is the largest --trust file read: the whole Mozilla store in PEM is about 220 KB.
	MaxTrustFile = 1 << 20
	// MaxTrustCerts is the most certificates a --trust file may hold.
	MaxTrustCerts = 1000
)

// Roots is a set of trust anchors. Build one with PublicRoots or LoadTrust; it is read-only afterwards and
// safe to share between goroutines.
type Roots struct {
	pool    *x509.CertPool
	retired *retiredRoots // PublicRoots only: the roots Mozilla trusted once and has removed since
	n       int
	bounds  []time.Time // every root's NotBefore and NotAfter: the instants where a verification may change
}

// The roots Mozilla's store held once and has removed since, each with the end of its trust window (the
// files say how they were made):
//   - retired.pem: the roots of March 2023 (Debian 12's ca-certificates) that left the pinned bundle. Without
//     them, every chain of a 2019–2022 capture that ends at Baltimore CyberTrust Root or DigiCert Global
//     Root CA, which Microsoft's own services used for years, would look like an inspection CA's;
//   - retired-bundles.pem: the roots of older pinned bundles (certifi 2018–2021, fallback 2024–2026) in
//     neither, such as GlobalSign Root CA - R2 (Google until 2021) and DST Root CA X3 (Let's Encrypt).
var (
	//go:embed retired.pem
	retiredPEM []byte
	//go:embed retired-bundles.pem
	retiredBundlesPEM []byte
)

// Len is how many certificates the set holds.
func (r *Roots) Len() int {
	if r == nil {
		return 0
	}
	return r.n
}

// PublicRoots builds the public trust anchors from the Mozilla NSS store embedded in
// golang.org/x/crypto/x509roots/fallback/bundle, with NSS's distrust-after dates as constraints, and the
// embedded retired roots (retired.pem, retired-bundles.pem), which a chain is checked against only when the
// current ones fail, and only for a capture taken while the root was trusted. The system's trust store is
// never read, so the answer is the same on every machine, offline. Building takes a few milliseconds: do
// it once per run.
func PublicRoots() (*Roots, error) {
	r := &Roots{pool: x509.NewCertPool()}
	for root := range bundle.Roots() {
		cert, err := x509.ParseCertificate(root.Certificate)
		if err != nil {
			return nil, fmt.Errorf("embedded public root %d: %w", r.n+1, err)
		}
		if root.Constraint != nil {
			r.pool.AddCertWithConstraint(cert, root.Constraint)
		} else {
			r.pool.AddCert(cert)
		}
		r.bounds = append(r.bounds, cert.NotBefore, cert.NotAfter)
		r.n++
	}
	retired := newRetiredRoots()
	for _, f := range []struct {
		name string
		data []byte
	}{{"retired.pem", retiredPEM}, {"retired-bundles.pem", retiredBundlesPEM}} {
		if err := retired.add(f.data); err != nil {
			return nil, fmt.Errorf("embedded %s: %w", f.name, err)
		}
	}
	r.retired = retired
	return r, nil
}

// LoadTrust reads extra trust anchors from a PEM file (--trust): every block must be a CERTIFICATE. A chain
// that verifies to one of them is the company's own, trusted on purpose (for instance its TLS inspection CA
// once the devices trust it).
func LoadTrust(path string) (*Roots, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open trust file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxTrustFile+1))
	if err != nil {
		return nil, fmt.Errorf("read trust file %q: %w", path, err)
	}
	if len(data) > MaxTrustFile {
		return nil, fmt.Errorf("trust file %q: larger than %d bytes", path, MaxTrustFile)
	}
	r, err := parseTrust(data)
	if err != nil {
		return nil, fmt.Errorf("trust file %q: %w", path, err)
	}
	return r, nil
}

// parseTrust reads PEM certificates.
func parseTrust(data []byte) (*Roots, error) {
	r := &Roots{pool: x509.NewCertPool()}
	for block := 1; ; block++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("pem block %d is %q, want CERTIFICATE", block, b.Type)
		}
		if r.n == MaxTrustCerts {
			return nil, fmt.Errorf("more than %d certificates", MaxTrustCerts)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pem block %d: %w", block, err)
		}
		r.pool.AddCert(cert)
		r.bounds = append(r.bounds, cert.NotBefore, cert.NotAfter)
		r.n++
	}
	if r.n == 0 {
		return nil, fmt.Errorf("no PEM certificate found")
	}
	return r, nil
}
