package tlshello

import "github.com/intunecap/intunecap/analyze/fingerprint"

// Facts returns what the TLS fingerprints (JA3, JA4) read from the hello. It shares h's slices: the facts are
// valid until the next Parse into h, which is as long as computing a fingerprint takes.
func (h *Hello) Facts() fingerprint.ClientFacts {
	return fingerprint.ClientFacts{
		LegacyVersion: h.LegacyVersion,
		Ciphers:       h.Ciphers,
		Extensions:    h.Extensions,
		Groups:        h.Groups,
		PointFormats:  h.PointFormats,
		SigAlgs:       h.SigAlgs,
		Versions:      h.Versions,
		ALPN:          h.ALPN,
	}
}
