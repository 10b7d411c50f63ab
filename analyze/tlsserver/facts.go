package tlsserver

// Facts are the record fields a server flight gives, spelled as in the record (FIELDS.md's TLS part). The
// chain itself is Flight.Chain, for analyze/certchain.
type Facts struct {
	Version      string // tls_version: "1.0" to "1.3"; "" before a ServerHello
	Cipher       string // tls_cipher: IANA name, or "0x%04x"
	ALPNSelected string // alpn_selected: from the ServerHello (TLS 1.2 and below; TLS 1.3 encrypts it)
	Alert        string // tls_alert, e.g. "fatal handshake_failure"
	AlertBy      string // tls_alert_by: "server" when Alert is set
}

// Facts gives the record fields of what was read so far. It allocates only for an alert or an unknown
// version or suite.
func (f *Flight) Facts() Facts {
	var x Facts
	if f.ServerHello {
		x.Version, x.Cipher, x.ALPNSelected = VersionName(f.Version), CipherName(f.CipherSuite), f.ALPN
	}
	if f.Alert.Seen() {
		x.Alert, x.AlertBy = f.Alert.String(), f.Alert.By.String()
	}
	return x
}
