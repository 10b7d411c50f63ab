package main

import (
	"crypto/x509"
	"strings"
)

// A distrust is what Mozilla (or Chrome) did to a CA for cause, matched by words in a root's subject. A
// root that left the store only because it expired or its CA asked keeps the window its bundles give it; a
// distrusted one is left out, or its window ends at the distrust.
type distrust struct {
	words []string // lower-case words, one of which is in the root's subject
	why   string
	// omit leaves the root out: it was distrusted before the first pinned bundle (2018), so no window of
	// ours is a time it was trusted.
	omit bool
	// until ends the window: captures from this date on are not judged against the root.
	until string
	// after is NSS's distrust-after: a leaf issued after it is not trusted, whatever the capture time.
	after string
}

var distrusts = []distrust{
	{words: []string{"wosign", "startcom"}, omit: true,
		why: "WoSign and StartCom: distrusted by Mozilla in October 2016 for backdating and hiding the ownership"},
	{words: []string{"cnnic", "china internet network information center"}, omit: true,
		why: "CNNIC: distrusted by Mozilla in April 2015 after an intermediate it issued was used to intercept TLS"},
	{words: []string{"türktrust", "turktrust"}, omit: true,
		why: "TÜRKTRUST: issued intermediate CAs by mistake, one of them used to intercept TLS (2013)"},
	{words: []string{"diginotar"}, omit: true, why: "DigiNotar: compromised in 2011"},
	{words: []string{"certinomis"}, omit: true, why: "Certinomis: removed by Mozilla in 2019 for mis-issuance"},
	{words: []string{"camerfirma"}, omit: true, why: "Camerfirma: removed by Mozilla in 2021 for repeated mis-issuance"},
	{words: []string{"procert"}, omit: true, why: "PSCProcert: removed by Mozilla in 2017 for mis-issuance"},
	{words: []string{"verisign", "geotrust", "thawte", "symantec"}, until: "2018-10-16",
		why: "Symantec (VeriSign, GeoTrust, thawte): Chrome 70 (2018-10-16) and Firefox stopped trusting every certificate under it"},
	{words: []string{"trustcor"}, after: "2022-11-30T00:00:00Z",
		why: "TrustCor: Mozilla distrusted certificates issued after 2022-11-30, its owners being tied to a spyware maker"},
}

// distrustOf finds the distrust that names a root, or nil.
func distrustOf(c *x509.Certificate) *distrust {
	subject := strings.ToLower(c.Subject.String())
	for i, d := range distrusts {
		for _, w := range d.words {
			if strings.Contains(subject, w) {
				return &distrusts[i]
			}
		}
	}
	return nil
}
