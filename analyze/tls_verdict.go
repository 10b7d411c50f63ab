package analyze

import (
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/analyze/tlsserver"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// tlsOutcome is what the TLS handshake says of a connection's fate, when it says something: a chain that does
// not come from the server (Intercepted; the rules then decide whether the name makes it matter), or a fatal
// alert that the server side (the server, or a middlebox in its place) sent in its first flight, which ended
// the handshake: Reset when the server side also reset the connection, Blocked otherwise. A client's alert is
// the client's own choice (it rejected the chain) and is only shown: the chain says why, except under a root
// of the --trust file: the client refusing that chain says this device does not trust the CA the user
// vouched for, and the connection is intercepted all the same.
func (c *conn) tlsOutcome() (outcome, bool) {
	t := c.appView().tls
	if t.intercepted() || t.trustRefused() {
		return outcome{verdict: rules.Intercepted}, true
	}
	alert, fatal := t.killingAlert()
	if !fatal {
		return outcome{}, false
	}
	reason := "the server side sent TLS alert " + alert.String()
	if c.serverRST && !c.serverRSTClosing {
		return outcome{rules.Reset, result.StageAfterClientHello, reason + " and reset the connection"}, true
	}
	return outcome{rules.Blocked, result.StageAfterClientHello, reason}, true
}

// interceptionReason says who made the certificate and whether the requirement forbids inspecting the name.
func interceptionReason(r *result.Record, m rules.Match) string {
	issuer := r.CertIssuer
	if issuer == "" {
		issuer = "an unnamed issuer"
	}
	s := "TLS inspection: the certificate was issued by " + issuer + ", which does not chain to a public root"
	switch {
	case r.CertChain == string(certchain.NameMismatch):
		s = "TLS inspection: the certificate, issued by " + issuer + ", is not valid for the name"
	case r.CertRootStore == result.RootStoreTrustFile:
		s = "TLS inspection: the certificate was issued by " + issuer + ", under " + r.CertRoot +
			" from the --trust file, but the client refused it (" + r.TLSAlert + "): this device does not trust that CA"
	}
	switch {
	case m.Rule == nil:
	case m.Rule.NoInspection:
		s += "; the requirement is marked no_inspection"
	default:
		s += "; the requirement is not marked no_inspection"
	}
	return s
}

// tlsFields fills a record's TLS fields from what the handshake showed; t is nil for a connection without a
// complete ClientHello.
func tlsFields(t *tlsState, r *result.Record) {
	if t == nil {
		return
	}
	r.JA4, r.JA3, r.ALPN = t.ja4, t.ja3, t.alpn
	if t.serverHello {
		r.TLSVersion, r.TLSCipher, r.ALPNSelected = t.server.Version, t.server.Cipher, t.server.ALPNSelected
		r.JA4S, r.JA3S = t.ja4s, t.ja3s
	}
	if a := t.shownAlert(); a.Seen() {
		r.TLSAlert, r.TLSAlertBy = a.String(), a.By.String()
	}
	if !t.chainRead {
		return
	}
	ch := &t.chain
	r.CertChain = string(ch.Class)
	r.CertSubject, r.CertIssuer, r.CertSANs = ch.Subject, ch.Issuer, ch.SANs
	r.CertNotBefore, r.CertNotAfter, r.CertSHA256 = ch.NotBefore, ch.NotAfter, ch.SHA256
	if ch.Root != "" {
		r.CertRoot, r.CertRootStore = ch.Root, rootStore(ch)
	}
}

// rootStore names where the root of a chain that verified is trusted: the record field cert_root_store.
func rootStore(ch *certchain.Result) result.RootStore {
	switch {
	case ch.Trusted:
		return result.RootStoreTrustFile
	case ch.Retired:
		return result.RootStoreMozillaRemoved
	}
	return result.RootStoreMozilla
}

// trustRefused reports whether the client refused, with a fatal certificate alert, a chain that verified only
// to a root of the --trust file: the device does not trust the CA the user vouched for.
func (t *tlsState) trustRefused() bool {
	if t == nil || !t.chainRead || !t.chain.Trusted || t.clientAlert.Level != tlsserver.LevelFatal {
		return false
	}
	switch t.clientAlert.Description {
	case alertBadCertificate, alertUnsupportedCertificate, alertCertificateRevoked, alertCertificateExpired,
		alertCertificateUnknown, alertUnknownCA:
		return true
	}
	return false
}

// The TLS alerts a client sends when it refuses the server's certificate (RFC 8446 6.2).
const (
	alertBadCertificate         tlsserver.AlertDescription = 42
	alertUnsupportedCertificate tlsserver.AlertDescription = 43
	alertCertificateRevoked     tlsserver.AlertDescription = 44
	alertCertificateExpired     tlsserver.AlertDescription = 45
	alertCertificateUnknown     tlsserver.AlertDescription = 46
	alertUnknownCA              tlsserver.AlertDescription = 48
)
