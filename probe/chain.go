package probe

import (
	"crypto/x509"
	"sync"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Chain is how a server's certificate chain looks to a device that trusts the public roots. The words are
// the record field cert_chain's (FIELDS.md).
type Chain string

// The chain classes. Anything but public on an Intune endpoint means the connection is not the one
// Microsoft serves: a TLS inspection proxy re-signed it, or the server is misconfigured.
const (
	ChainPublic       Chain = "public"
	ChainPrivate      Chain = "private"       // no path to a public root: an inspection CA or a self-signed cert
	ChainExpired      Chain = "expired"       // a path exists but a certificate is outside its validity
	ChainNameMismatch Chain = "name-mismatch" // a trusted chain for another name
)

// Roots is the pool chains are judged against. The default is the NSS bundle shipped in
// golang.org/x/crypto/x509roots/fallback, the same on every machine: a device's own trust store, which an
// inspection CA may have been added to, would hide the inspection this check looks for.
type Roots struct{ pool *x509.CertPool }

var (
	publicOnce sync.Once
	publicPool *x509.CertPool
)

// PublicRoots is the built-in public root pool.
func PublicRoots() Roots {
	publicOnce.Do(func() {
		p := x509.NewCertPool()
		for r := range bundle.Roots() {
			cert, err := x509.ParseCertificate(r.Certificate)
			if err != nil {
				continue
			}
			if r.Constraint == nil {
				p.AddCert(cert)
			} else {
				p.AddCertWithConstraint(cert, r.Constraint)
			}
		}
		publicPool = p
	})
	return Roots{pool: publicPool}
}

// RootsFromPEM is a pool of the given PEM certificates instead of the public ones (--roots FILE: an
// isolated network with its own PKI, or the lab).
func RootsFromPEM(pem []byte) (Roots, bool) {
	p := x509.NewCertPool()
	ok := p.AppendCertsFromPEM(pem)
	return Roots{pool: p}, ok
}

// judgeChain classifies the chain a server presented for sni at now. The first certificate is the leaf;
// the others are offered as intermediates. It is the one place a chain is judged.
func (roots Roots) judgeChain(chain []*x509.Certificate, sni string, now time.Time) Chain {
	if len(chain) == 0 {
		return ChainPrivate
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots.pool, Intermediates: inter, CurrentTime: now}
	if _, err := chain[0].Verify(opts); err != nil {
		var inv x509.CertificateInvalidError
		if asInvalid(err, &inv) && inv.Reason == x509.Expired {
			return ChainExpired
		}
		return ChainPrivate
	}
	if chain[0].VerifyHostname(sni) != nil {
		return ChainNameMismatch
	}
	return ChainPublic
}

func asInvalid(err error, target *x509.CertificateInvalidError) bool {
	e, ok := err.(x509.CertificateInvalidError)
	if ok {
		*target = e
	}
	return ok
}
