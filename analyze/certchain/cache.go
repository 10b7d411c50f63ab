package certchain

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"slices"
	"sort"
	"time"
)

// Cache is a Verifier that remembers: a chain it classified before, for the same SNI, is answered again
// without verifying, when the capture time compares with every instant that matters the way the first
// one did. Verification costs about a millisecond a chain (crypto/x509 checks signatures, and Check may
// verify at several instants and against several root pools), while a gateway capture holds thousands of
// connections to the same few servers, or to one inspecting proxy that answers every name with the same
// CA.
//
// The answer is exactly Check's. Check depends on the capture time only through comparisons with the
// NotBefore and NotAfter of the roots and of the chain's certificates, and with the ends of the retired
// roots' windows: two instants placed alike among all of those get the same answer. Results whose error
// text quotes the capture time (a certificate expired at that time) are not kept.
//
// A Cache is not safe for concurrent use: give each goroutine its own, over one shared Verifier.
type Cache struct {
	v       *Verifier
	entries map[cacheKey]cacheEntry
	max     int // MaxCachedChains
}

// MaxCachedChains bounds the chains a Cache remembers; when full, it forgets them all and starts again.
const MaxCachedChains = 4096

// cacheKey identifies what Check reads besides the time.
type cacheKey struct {
	chain   [sha256.Size]byte // over each certificate's length and DER
	sni     string
	partial bool
}

// cacheEntry is a remembered answer, with where its capture time lay among the instants that matter.
type cacheEntry struct {
	r           Result
	chainBounds []time.Time // NotBefore and NotAfter of the chain's certificates, sorted
	roots       place       // among the Verifier's bounds
	chain       place       // among chainBounds
}

// place is where an instant lies among sorted bounds: how many are before it, and how many are not after
// it. Two instants with the same place are each before, at, or after every bound alike.
type place struct{ before, upTo int }

// NewCache remembers v's answers.
func NewCache(v *Verifier) *Cache {
	return &Cache{v: v, entries: make(map[cacheKey]cacheEntry), max: MaxCachedChains}
}

// Check returns what the Verifier's Check returns for in.
func (c *Cache) Check(in Input) Result {
	if len(in.Chain) == 0 || in.Time.IsZero() || c.v.load() != nil {
		return c.v.Check(in) // nothing to verify (as cheap as a lookup), or no roots to verify with
	}
	key := cacheKey{chain: chainDigest(in.Chain), sni: in.SNI, partial: in.Partial}
	roots := placeOf(c.v.bounds, in.Time)
	if e, ok := c.entries[key]; ok && e.roots == roots && e.chain == placeOf(e.chainBounds, in.Time) {
		return e.r
	}
	r, bounds := c.v.check(in)
	if !reusable(r) {
		return r
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	bounds = sortedTimes(bounds)
	c.entries[key] = cacheEntry{r: r, chainBounds: bounds, roots: roots, chain: placeOf(bounds, in.Time)}
	return r
}

// reusable reports whether r may answer for another instant: its error text does not quote the time.
func reusable(r Result) bool {
	if r.Class == Expired {
		return false
	}
	var invalid x509.CertificateInvalidError
	return !errors.As(r.Err, &invalid) || invalid.Reason != x509.Expired
}

// chainDigest is SHA-256 over each certificate's length (8 bytes, big-endian) and DER.
func chainDigest(chain [][]byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, der := range chain {
		binary.BigEndian.PutUint64(n[:], uint64(len(der)))
		h.Write(n[:])
		h.Write(der)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// placeOf places t among bounds, which are sorted.
func placeOf(bounds []time.Time, t time.Time) place {
	return place{
		before: sort.Search(len(bounds), func(i int) bool { return !bounds[i].Before(t) }),
		upTo:   sort.Search(len(bounds), func(i int) bool { return bounds[i].After(t) }),
	}
}

// sortedTimes sorts ts and drops repeats.
func sortedTimes(ts []time.Time) []time.Time {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(ts, func(a, b time.Time) bool { return a.Equal(b) })
}
