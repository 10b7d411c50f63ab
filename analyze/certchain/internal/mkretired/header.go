package main

// retiredHeader opens retired.pem. Its certificates were cut from Debian's bundle by the recipe it gives;
// mkretired adds each one's headers and keeps the certificates and their order.
const retiredHeader = `# Retired public roots: CA certificates that were in Mozilla's NSS store for server authentication in
# March 2023 (Debian 12's ca-certificates 20230311+deb12u1, /usr/share/ca-certificates/mozilla) and are no
# longer in the pinned bundle (golang.org/x/crypto/x509roots/fallback v0.0.0-20261030153154-30a33513ff6d).
# A chain that ends at one of them was issued by a public CA (Baltimore CyberTrust Root, DigiCert Global
# Root CA, ...), so it is not a TLS-inspection CA's, although Mozilla no longer trusts it today.
# The certificates (on Debian 12, from the module root):
#   B=$(go env GOMODCACHE)/golang.org/x/crypto/x509roots/fallback@VERSION/bundle/bundle.go
#   grep sha256Hash $B | sed 's/.*"\(.*\)".*/\1/' > /tmp/bundle.sha
#   for f in /usr/share/ca-certificates/mozilla/*.crt; do
#     h=$(openssl x509 -in "$f" -outform DER | sha256sum | cut -d' ' -f1)
#     grep -q $h /tmp/bundle.sha || { echo "# $(basename "$f" .crt)"; openssl x509 -in "$f"; }
#   done
# The headers of each certificate: go run ./analyze/certchain/internal/mkretired (from the module root),
# from the pinned bundles listed in retired-bundles.pem. It keeps the certificates and their order.
#   Bundles:        the first and last pinned bundle that held the root
#   Trusted-Until:  a capture taken on or after this date is not judged against the root: the date of the
#                   first pinned bundle without it, or of its CA's distrust (Distrusted says why)
#   Distrust-After: NSS's distrust-after: a leaf issued after it does not verify to the root
`

// bundlesHeader opens retired-bundles.pem; the list of bundles follows it.
const bundlesHeader = `# Retired public roots of older Mozilla bundles: CA certificates that were in Mozilla's NSS store for
# server authentication in one of the pinned bundles below and are neither in the current pinned bundle
# (the last one) nor in retired.pem. Most left before 2023 (GlobalSign Root CA - R2, DST Root CA X3, the
# Symantec roots); a few were added after 2023 and removed again. Written by
#   go run ./analyze/certchain/internal/mkretired
# from the module root, with the Go module proxy reachable; the same bundles give the same bytes.
# Headers of each certificate:
#   Bundles:        the first and last pinned bundle that held the root
#   Trusted-Until:  a capture taken on or after this date is not judged against the root: the date of the
#                   first pinned bundle without it, or of its CA's distrust (Distrusted says why)
#   Distrust-After: NSS's distrust-after: a leaf issued after it does not verify to the root
#   Source:         the module version its bytes were read from
#
# Bundles (date, module version, files and their sha256):
`
