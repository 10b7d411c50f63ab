// Package probe makes the traffic a capture judges: for every requirement row it picks concrete host names
// (an exact pattern as written, a wildcard row from its table's probe list), resolves them, and on each of
// the row's ports opens what a managed device would: an HTTP HEAD on TCP 80, a TLS handshake with SNI on
// TCP 443, an NTP client request on UDP 123, directly or through an HTTP proxy. Each attempt ends in a
// socket result (what the operating system and the handshake said); the command then joins it with the
// wire verdict the analysis engine gives the same connection from a capture taken meanwhile (Merge).
//
// It contacts only names from the tables, a bounded number at once, each within a timeout, and sends no
// credentials. Package layout: target.go chooses what to contact, proxy.go reads proxy settings the way
// curl does, resolve.go and dnsclient.go resolve, dial.go, http.go, tlsprobe.go and ntp.go make the
// attempts, chain.go judges certificate chains, merge.go joins socket and wire results.
package probe
