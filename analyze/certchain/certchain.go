// Package certchain classifies the certificate chain a TLS server sent, to tell a connection that reached
// its server from one a TLS-inspecting proxy answered with a certificate of its own making. It reads the DER
// certificates of a TLS 1.0–1.2 Certificate message (analyze/tlsserver), the SNI the client asked for and
// the capture's time, and verifies the chain with crypto/x509 against a pinned public root set (Mozilla's,
// embedded: PublicRoots, with the roots Mozilla's bundles held since 2018 and has removed since, each for
// captures taken while it was trusted, so that older captures of real services are not mistaken for
// interception), plus the roots a user trusts on purpose (LoadTrust), at the capture's time, never the
// clock's, so the answer depends on the capture alone. A chain that ends at a root removed before 2018, or
// signed with SHA-1, is private: add that root with --trust to judge captures that old.
//
// Classes (the record field cert_chain): public (verifies to a public or trusted root and is valid for the
// SNI), private (does not chain to one: an inspection CA or a self-signed certificate), expired (chains, but
// the capture time is outside a certificate's validity), name-mismatch (chains, but not for the SNI),
// hidden (no chain to read: TLS 1.3 encrypts it, or no Certificate message was seen). A chain that was not
// read whole (over tlsserver's caps) and does not verify is left unclassified (""), never called private.
//
// Caps: MaxChain certificates and MaxChainBytes bytes are looked at; MaxSANs DNS names and MaxText bytes of
// a name are kept.
package certchain

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Class is the record field cert_chain.
type Class string

// The classes, spelled as in the record.
const (
	Unknown      Class = "" // not classified: see Result.Err
	Public       Class = "public"
	Private      Class = "private"
	Expired      Class = "expired"
	NameMismatch Class = "name-mismatch"
	Hidden       Class = "hidden"
)

const (
	// MaxChain is the most certificates of a chain looked at (tlsserver keeps at most 10).
	MaxChain = 10
	// MaxChainBytes is the most DER bytes of a chain looked at (tlsserver's flight cap).
	MaxChainBytes = 64 << 10
	// MaxSANs is the most DNS names of the leaf kept in Result.SANs.
	MaxSANs = 20
	// MaxText is the longest subject, issuer or DNS name kept; longer ones are cut.
	MaxText = 256
)

// Input is one connection's chain and context.
type Input struct {
	Chain   [][]byte  // DER certificates as the server sent them, leaf first; empty when none was seen
	Partial bool      // the chain was not read whole (tlsserver ChainTruncated or ChainTooLarge)
	SNI     string    // the name the client asked for; "" skips the name check
	Time    time.Time // when the certificate was seen: the packet's timestamp
}

// Result is what the records say about a chain. The strings are the record fields of the same names.
type Result struct {
	Class     Class
	Trusted   bool     // the chain verified to a root from LoadTrust, not a public one
	Retired   bool     // the chain verified to a public root Mozilla has removed since, trusted at the capture time (retired*.pem)
	Root      string   // the root the chain verified to (public, expired, name-mismatch): its common name, or its unit
	Subject   string   // cert_subject: leaf subject, RFC 4514 style
	Issuer    string   // cert_issuer: leaf issuer's CN, else its RFC 4514 name
	SANs      []string // cert_sans: at most MaxSANs DNS names of the leaf
	NotBefore string   // cert_not_before, RFC 3339 UTC
	NotAfter  string   // cert_not_after, RFC 3339 UTC
	SHA256    string   // cert_sha256: lower-case hex SHA-256 of the leaf DER
	Err       error    // why the chain is not public, or why it is Unknown; nil for public and hidden
}

// Verifier classifies chains against fixed root sets. Once its roots are built it holds no mutable state:
// one may serve every worker of a run.
type Verifier struct {
	public, trusted *x509.CertPool
	retired         *retiredRoots
	bounds          []time.Time // the roots' validity bounds and window ends, sorted (Cache)

	// A Verifier from NewPublicVerifier builds the public roots on its first chain (load).
	lazy    *sync.Once
	pending *Roots // the trusted roots, until then
	loadErr error
}

// NewVerifier verifies against public (PublicRoots) and, when not nil, the user's trusted roots.
func NewVerifier(public, trusted *Roots) *Verifier {
	v := &Verifier{}
	v.init(public, trusted)
	return v
}

// NewPublicVerifier verifies against PublicRoots and, when not nil, the user's trusted roots, building the
// public roots on the first chain it is asked about: they take a few milliseconds and a megabyte or so, most
// of a short run's time, and a capture of TLS 1.3 alone (whose certificates travel encrypted) never needs
// them. It is as safe for concurrent use as NewVerifier's.
func NewPublicVerifier(trusted *Roots) *Verifier {
	return &Verifier{lazy: new(sync.Once), pending: trusted}
}

// load builds the roots of a NewPublicVerifier once; every path that reads v's roots calls it first.
func (v *Verifier) load() error {
	if v.lazy == nil {
		return nil
	}
	v.lazy.Do(func() {
		public, err := PublicRoots()
		if err != nil {
			v.loadErr = fmt.Errorf("load the public roots: %w", err)
			return
		}
		v.init(public, v.pending)
	})
	return v.loadErr
}

// init sets v's roots.
func (v *Verifier) init(public, trusted *Roots) {
	v.public = x509.NewCertPool()
	if public != nil {
		v.public, v.retired = public.pool, public.retired
		v.bounds = append(v.bounds, public.bounds...)
		if public.retired != nil {
			v.bounds = append(v.bounds, public.retired.bounds...)
		}
	}
	if trusted != nil {
		v.trusted = trusted.pool
		v.bounds = append(v.bounds, trusted.bounds...)
	}
	v.bounds = sortedTimes(v.bounds)
}

var (
	errNoTime  = errors.New("no capture time to verify at")
	errPartial = errors.New("chain not read whole (over the size caps) and what was read does not verify")
	errNever   = errors.New("does not verify at any instant of the leaf's validity")
)

// Check classifies one chain. It runs x509 verification once or a few times: call it once per connection,
// when the server's Certificate message is complete.
func (v *Verifier) Check(in Input) Result {
	r, _ := v.check(in)
	return r
}

// check is Check, and also returns the NotBefore and NotAfter of the chain's certificates it verified with
// (unsorted): with the roots' bounds, the instants at which the answer for this chain may change.
func (v *Verifier) check(in Input) (Result, []time.Time) {
	if len(in.Chain) == 0 {
		if in.Partial {
			return Result{Err: errPartial}, nil
		}
		return Result{Class: Hidden}, nil
	}
	if len(in.Chain[0]) > MaxChainBytes {
		return Result{SHA256: digest(in.Chain[0]), Err: fmt.Errorf("leaf certificate of %d bytes, more than %d", len(in.Chain[0]), MaxChainBytes)}, nil
	}
	if err := v.load(); err != nil {
		return Result{SHA256: digest(in.Chain[0]), Err: err}, nil
	}
	leaf, err := x509.ParseCertificate(in.Chain[0])
	if err != nil {
		return Result{SHA256: digest(in.Chain[0]), Err: fmt.Errorf("parse leaf certificate: %w", err)}, nil
	}
	r := facts(leaf, in.Chain[0])
	if in.Time.IsZero() {
		r.Err = errNoTime
		return r, nil
	}
	inter, bounds := intermediates(in.Chain[1:])
	bounds = append(bounds, leaf.NotBefore, leaf.NotAfter)
	var root *x509.Certificate
	r.Class, root, r.Err = v.classify(leaf, inter, v.public, nil, in)
	if r.Class == Private && v.retired != nil {
		c, through, err := v.classify(leaf, inter, v.retired.pool, v.retired, in)
		switch {
		case c != Private:
			r.Class, root, r.Err, r.Retired = c, through, err, true
		case errors.Is(err, errRetiredThen):
			r.Err = err // says which root, and until when it was trusted
		}
	}
	if r.Class == Private && v.trusted != nil {
		if c, through, err := v.classify(leaf, inter, v.trusted, nil, in); c != Private {
			r.Class, root, r.Err, r.Trusted = c, through, err, true
		}
	}
	if root != nil {
		r.Root = rootName(root)
	}
	if r.Class == Private && in.Partial {
		r.Class, r.Err = Unknown, fmt.Errorf("%w: %w", errPartial, r.Err)
	}
	return r, bounds
}

// classify verifies against one root pool: at the capture time, then, if only time stood in the way, at
// instants inside the leaf's validity, then the name. With retired roots (window not nil), a chain counts
// only when its root was still trusted at the capture time. It returns the root a chain verified to (nil
// for Private).
func (v *Verifier) classify(leaf *x509.Certificate, inter *x509.CertPool, roots *x509.CertPool, window *retiredRoots, in Input) (Class, *x509.Certificate, error) {
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: in.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	root, err := verify(leaf, opts, window, in.Time)
	if err != nil {
		// An expired leaf fails with x509.Expired, but an expired intermediate makes crypto/x509 skip that
		// parent and report an unknown authority: whatever the error, a chain that verifies at another
		// instant chains to the roots and is only outside its validity now. A retired root's window is
		// always judged at the capture time.
		if errors.Is(err, errRetiredThen) {
			return Private, nil, fmt.Errorf("verify: %w", err)
		}
		then, other := verifiesSometime(leaf, opts, window, in.Time)
		switch {
		case errors.Is(other, errRetiredThen):
			return Private, nil, fmt.Errorf("verify: %w", other)
		case other != nil:
			return Private, nil, fmt.Errorf("verify: %w", err)
		}
		return Expired, then, fmt.Errorf("verify at %s: %w", in.Time.UTC().Format(time.RFC3339), err)
	}
	if in.SNI != "" {
		if err := leaf.VerifyHostname(in.SNI); err != nil {
			return NameMismatch, root, err
		}
	}
	return Public, root, nil
}

// verify runs crypto/x509 and, for retired roots, keeps only the chains whose root was trusted at the
// capture time. It returns the root of the first chain kept.
func verify(leaf *x509.Certificate, opts x509.VerifyOptions, window *retiredRoots, captured time.Time) (*x509.Certificate, error) {
	chains, err := leaf.Verify(opts)
	switch {
	case err != nil:
		return nil, err
	case window == nil:
		return chains[0][len(chains[0])-1], nil
	}
	return window.check(chains, captured)
}

// verifiesSometime tries instants inside the leaf's validity (its start, middle and end): a chain that
// verifies at one of them chains to the roots and is only outside its validity at the capture time (nil).
// A chain that verifies then to a retired root whose window ended before the capture gives errRetiredThen.
func verifiesSometime(leaf *x509.Certificate, opts x509.VerifyOptions, window *retiredRoots, captured time.Time) (*x509.Certificate, error) {
	span := leaf.NotAfter.Sub(leaf.NotBefore)
	err := errNever
	for _, at := range []time.Time{leaf.NotBefore.Add(span / 2), leaf.NotBefore.Add(time.Second), leaf.NotAfter.Add(-time.Second)} {
		opts.CurrentTime = at
		switch root, e := verify(leaf, opts, window, captured); {
		case e == nil:
			return root, nil
		case errors.Is(e, errRetiredThen):
			err = e
		}
	}
	return nil, err
}

// intermediates pools the certificates after the leaf, within MaxChain and MaxChainBytes; unparsable ones
// are left out (verification then fails or finds another path, as a client would). It also returns the
// pooled certificates' NotBefore and NotAfter.
func intermediates(rest [][]byte) (*x509.CertPool, []time.Time) {
	pool := x509.NewCertPool()
	var bounds []time.Time
	total := 0
	for i, der := range rest {
		total += len(der)
		if i+1 >= MaxChain || total > MaxChainBytes {
			break
		}
		if c, err := x509.ParseCertificate(der); err == nil {
			pool.AddCert(c)
			bounds = append(bounds, c.NotBefore, c.NotAfter)
		}
	}
	return pool, bounds
}

// facts reads the leaf's record fields.
func facts(leaf *x509.Certificate, der []byte) Result {
	r := Result{
		Subject:   cut(leaf.Subject.String()),
		Issuer:    cut(leaf.Issuer.CommonName),
		NotBefore: leaf.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:  leaf.NotAfter.UTC().Format(time.RFC3339),
		SHA256:    digest(der),
	}
	if r.Issuer == "" {
		r.Issuer = cut(leaf.Issuer.String())
	}
	for _, n := range leaf.DNSNames[:min(len(leaf.DNSNames), MaxSANs)] {
		r.SANs = append(r.SANs, cut(n))
	}
	return r
}

func cut(s string) string {
	if len(s) > MaxText {
		return s[:MaxText]
	}
	return s
}

func digest(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}
