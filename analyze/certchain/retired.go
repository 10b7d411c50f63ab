package certchain

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// retiredRoots are public roots Mozilla has removed from its store, each trusted for captures taken before
// the end of its window (the PEM header Trusted-Until): a root counts while it was in Mozilla's bundle, or
// until its CA was distrusted for cause, never for a capture taken after. A Distrust-After header (NSS's
// distrust-after) also refuses leaves issued after that instant, as NSS does, whatever the capture time.
type retiredRoots struct {
	pool   *x509.CertPool
	until  map[[32]byte]time.Time // per root's DER sha256: captures from this instant on are not judged against it
	bounds []time.Time            // every root's NotBefore, NotAfter and window end
}

func newRetiredRoots() *retiredRoots {
	return &retiredRoots{pool: x509.NewCertPool(), until: map[[32]byte]time.Time{}}
}

// add reads PEM certificates whose headers give their window.
func (r *retiredRoots) add(data []byte) error {
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			if n == 1 {
				return fmt.Errorf("no PEM certificate found")
			}
			return nil
		}
		if err := r.addBlock(b); err != nil {
			return fmt.Errorf("pem block %d: %w", n, err)
		}
	}
}

func (r *retiredRoots) addBlock(b *pem.Block) error {
	if b.Type != "CERTIFICATE" {
		return fmt.Errorf("%q, want CERTIFICATE", b.Type)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return err
	}
	until, err := time.Parse(time.DateOnly, b.Headers["Trusted-Until"])
	if err != nil {
		return fmt.Errorf("%s: Trusted-Until: %w", cert.Subject, err)
	}
	h := sha256.Sum256(b.Bytes)
	if _, dup := r.until[h]; dup {
		return fmt.Errorf("%s: listed twice", cert.Subject)
	}
	r.until[h] = until
	r.bounds = append(r.bounds, cert.NotBefore, cert.NotAfter, until)
	after := b.Headers["Distrust-After"]
	if after == "" {
		r.pool.AddCert(cert)
		return nil
	}
	distrust, err := time.Parse(time.RFC3339, after)
	if err != nil {
		return fmt.Errorf("%s: Distrust-After: %w", cert.Subject, err)
	}
	r.pool.AddCertWithConstraint(cert, func(chain []*x509.Certificate) error {
		if chain[0].NotBefore.After(distrust) {
			return fmt.Errorf("certificate issued after the root's distrust-after date %s", after)
		}
		return nil
	})
	return nil
}

// errRetiredThen is why a chain that verifies to a retired root is not public: the capture was taken after
// the root's window.
var errRetiredThen = errors.New("no longer trusted at the capture time")

// check returns the root of the first verified chain that ends at a root trusted at the capture time.
func (r *retiredRoots) check(chains [][]*x509.Certificate, at time.Time) (*x509.Certificate, error) {
	for _, c := range chains {
		if until, ok := r.until[sha256.Sum256(c[len(c)-1].Raw)]; ok && at.Before(until) {
			return c[len(c)-1], nil
		}
	}
	root := chains[0][len(chains[0])-1]
	return nil, fmt.Errorf("chains to %q, a root Mozilla removed from its store: %w (trusted until %s)",
		rootName(root), errRetiredThen, r.until[sha256.Sum256(root.Raw)].Format(time.DateOnly))
}

// rootName names a root by its common name, or by its unit when the common name only repeats the
// organization ("GlobalSign Root CA - R2", not "GlobalSign").
func rootName(c *x509.Certificate) string {
	s := c.Subject
	if len(s.OrganizationalUnit) > 0 && (s.CommonName == "" || len(s.Organization) > 0 && s.CommonName == s.Organization[0]) {
		return cut(s.OrganizationalUnit[0])
	}
	return cut(s.CommonName)
}
