package probe

import (
	"crypto/x509"
	"time"

	"github.com/intunecap/intunecap/analyze/certchain"
)

// Chain is how a server's certificate chain looks to a device that trusts the public roots. The words are
// the record field cert_chain's, and the judging is analyze's (package certchain), so a probe and an analysis
// of the same connection agree.
type Chain string

// The chain classes. Anything but public on an Intune endpoint means the connection is not the one
// Microsoft serves: a TLS inspection proxy re-signed it, or the server is misconfigured.
const (
	ChainPublic       Chain = Chain(certchain.Public)
	ChainPrivate      Chain = Chain(certchain.Private)      // no path to a public root: an inspection CA or a self-signed cert
	ChainExpired      Chain = Chain(certchain.Expired)      // a path exists but a certificate is outside its validity
	ChainNameMismatch Chain = Chain(certchain.NameMismatch) // a trusted chain for another name
)

// Roots judges chains: against the pinned public root set (certchain.PublicRoots, the same on every machine:
// a device's own trust store, which an inspection CA may have been added to, would hide the inspection this
// check looks for), or against roots of the user's own instead (--roots FILE).
type Roots struct{ v *certchain.Verifier }

// PublicRoots judges against the built-in public roots. Build it once per run: it parses the root set.
func PublicRoots() (Roots, error) {
	pub, err := certchain.PublicRoots()
	if err != nil {
		return Roots{}, err
	}
	return Roots{v: certchain.NewVerifier(pub, nil)}, nil
}

// RootsFromFile judges against the PEM certificates in path instead of the public roots (an isolated network
// with its own PKI, or the lab).
func RootsFromFile(path string) (Roots, error) {
	own, err := certchain.LoadTrust(path)
	if err != nil {
		return Roots{}, err
	}
	return Roots{v: certchain.NewVerifier(nil, own)}, nil
}

// Verifier is the chain verifier the probe judges with, for the analysis of its own capture to judge the same.
func (roots Roots) Verifier() *certchain.Verifier { return roots.v }

// judgeChain classifies the chain a server presented for sni at now, as analyze does. The first certificate
// is the leaf; the others are offered as intermediates. No chain, or one that cannot be judged, is private:
// a probe always gets the whole chain from its own handshake.
func (roots Roots) judgeChain(chain []*x509.Certificate, sni string, now time.Time) Chain {
	if roots.v == nil || len(chain) == 0 {
		return ChainPrivate
	}
	der := make([][]byte, len(chain))
	for i, c := range chain {
		der[i] = c.Raw
	}
	switch c := roots.v.Check(certchain.Input{Chain: der, SNI: sni, Time: now}).Class; c {
	case certchain.Public, certchain.Expired, certchain.NameMismatch:
		return Chain(c)
	}
	return ChainPrivate
}
