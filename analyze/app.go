package analyze

import (
	"github.com/intunecap/intunecap/analyze/httpmsg"
	"github.com/intunecap/intunecap/analyze/socksmsg"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/result"
)

// clientPhase is how far the engine has got in reading the client's first bytes.
type clientPhase uint8

const (
	phaseStart  clientPhase = iota // nothing decided yet
	phaseHTTP                      // reading an HTTP request head
	phaseSOCKS                     // reading a SOCKS greeting and request (socks.go)
	phaseTunnel                    // after a CONNECT head or SOCKS request: the tunnel's ClientHello follows
	phaseTLS                       // reading a ClientHello
	phaseAlert                     // name known; after a ClientHello, watching for a plaintext alert (tls_server.go)
	phaseDone                      // nothing more to read: name found or impossible
)

// appState is what the engine learned from the payload of one connection.
type appState struct {
	transport   result.Transport
	phase       clientPhase
	offset      int // where in the client stream the current phase starts (after a CONNECT head or SOCKS request)
	helloFrame  uint64
	clientHello bool // a complete ClientHello was read
	ech         bool
	sni         string

	httpHost    string
	httpFrame   uint64
	absoluteURI bool
	httpPort    uint16 // port of an absolute-URI request's target, when it names one

	connectHost  string
	connectPort  uint16
	connectFrame uint64
	serverPhase  uint8
	httpStatus   int    // status of the server's first answer: the proxy's to CONNECT, or to the first request
	respHeadLen  int    // length of that answer's head (or of a SOCKS proxy's answers), to tell a tunnel's own data from the proxy's
	authSchemes  string // the schemes of that answer's Proxy-Authenticate challenges, for a 407
	via          bool   // that answer carried a Via header: a proxy handled it
	respFrame    uint64 // frame that completed that answer's status line

	tls   *tlsState   // the TLS handshake's facts, from a complete ClientHello on (tls_server.go)
	socks *socksState // a SOCKS proxy's exchange, once the client's first bytes looked like SOCKS (socks.go)
}

// readClient advances the payload parsers over the client's contiguous first bytes. frame is the frame that
// completed them, recorded as the name's evidence. hello is scratch space for the ClientHello parser, reused
// across connections (its reassembly buffer would otherwise be allocated for every try). It returns true when
// the buffer is no longer needed.
func (a *appState) readClient(stream []byte, frame uint64, full bool, te *tlsEngine) bool {
	for {
		data := stream
		if a.offset <= len(data) {
			data = data[a.offset:]
		} else {
			data = nil
		}
		switch a.phase {
		case phaseStart:
			if len(data) == 0 {
				return false
			}
			switch {
			case looksLikeTLS(data):
				a.phase = phaseTLS
			case httpmsg.LooksLikeRequest(data):
				a.phase = phaseHTTP
			default:
				if again, done := a.sniffOther(data, full); !again {
					return done
				}
			}
		case phaseTLS:
			if done := a.readHello(data, frame, full, te); a.phase != phaseAlert {
				return done
			}
		case phaseAlert:
			return a.readClientAlert(data, full)
		case phaseSOCKS:
			again, done := a.readSOCKS(data, frame, full)
			if !again {
				return done
			}
		case phaseHTTP:
			again, done := a.readRequest(data, frame, full)
			if !again {
				return done
			}
		case phaseTunnel:
			if len(data) == 0 {
				return full
			}
			if !looksLikeTLS(data) {
				a.phase = phaseDone
				return true
			}
			a.phase = phaseTLS
		default:
			return true
		}
	}
}

// sniffOther decides on a stream that starts like neither TLS nor HTTP: SOCKS when socksmsg.Sniff is sure (a
// SOCKS5 greeting is three bytes, after which the client waits for the proxy), unknown from 8 bytes on, else
// wait for more. again is true when the phase changed and the loop should go on.
func (a *appState) sniffOther(data []byte, full bool) (again, done bool) {
	switch st := socksmsg.Sniff(data); {
	case st == socksmsg.Complete:
		a.startSOCKS()
		return true, false
	case st == socksmsg.NeedMore && !full:
		return false, false
	case len(data) >= 8 || full && st == socksmsg.NeedMore:
		a.transport = result.TransportUnknown
		a.phase = phaseDone
		return false, true
	}
	return false, full
}

// looksLikeTLS reports whether b starts like a TLS handshake record (content type 22, major version 3).
func looksLikeTLS(b []byte) bool {
	if len(b) < 2 {
		return len(b) == 1 && b[0] == 0x16
	}
	return b[0] == 0x16 && b[1] == 0x03
}

func (a *appState) readHello(data []byte, frame uint64, full bool, te *tlsEngine) bool {
	if pre := te.prepared; pre != nil && a.offset == 0 && len(data) == pre.size {
		a.takeHello(frame, pre, te)
		return false
	}
	h := &te.hello
	st, _, _ := tlshello.Parse(data, h)
	switch st {
	case tlshello.NeedMore:
		if full {
			a.phase = phaseDone
			return true
		}
		if a.transport == "" {
			a.transport = result.TransportTLS
		}
		return false
	case tlshello.Complete:
		a.tookHello(frame, h.SNI, h.ECH, te.newState(h))
		return false
	default:
		if a.transport == "" {
			a.transport = result.TransportUnknown
		}
	}
	a.phase = phaseDone
	return true
}

// takeHello takes the ClientHello the reading goroutine parsed from the stream's bytes (prepare.go).
func (a *appState) takeHello(frame uint64, pre *preparedHello, te *tlsEngine) {
	t := te.takeState()
	t.ja4, t.ja3, t.alpn = pre.ja4, pre.ja3, pre.alpn
	a.tookHello(frame, pre.sni, pre.ech, t)
}

// tookHello notes a complete ClientHello read at frame: its name, whether it offered ECH, and its TLS state.
func (a *appState) tookHello(frame uint64, sni string, ech bool, t *tlsState) {
	if a.transport == "" {
		a.transport = result.TransportTLS
	}
	a.clientHello = true
	a.helloFrame = frame
	a.sni = sni
	a.ech = ech
	a.tls = t
	a.phase = phaseAlert
}

// readRequest parses an HTTP request head. again is true when the phase changed and the loop should go on.
func (a *appState) readRequest(data []byte, frame uint64, full bool) (again, done bool) {
	var r httpmsg.Request
	st, _ := httpmsg.ParseRequest(data, &r)
	switch st {
	case httpmsg.NeedMore:
		if full {
			a.phase = phaseDone
			return false, true
		}
		return false, false
	case httpmsg.Complete:
		if r.Method == "CONNECT" && r.ConnectPort != 0 { // a CONNECT without host:port names no tunnel
			a.transport = result.TransportConnect
			a.connectHost, a.connectPort, a.connectFrame = r.ConnectHost, r.ConnectPort, frame
			a.offset += r.HeadLen
			a.phase = phaseTunnel
			return true, false
		}
		a.transport = result.TransportHTTP
		a.httpHost, a.httpFrame, a.absoluteURI = r.Host, frame, r.AbsoluteURI
		if r.AbsoluteURI {
			a.httpPort = r.HostPort
			if a.httpPort == 0 {
				a.httpPort = 80
			}
		}
	default:
		a.transport = result.TransportUnknown
	}
	a.phase = phaseDone
	return false, true
}

// wantsServer reports whether the server's first bytes still matter as an HTTP answer: to a CONNECT or to a
// request. A direct TLS connection's server speaks TLS: its flight is read apart (tls_server.go).
func (a *appState) wantsServer() bool {
	return a.serverPhase == 0 && a.transport != result.TransportTLS
}

// readServer reads the status line of the server's first answer, or a SOCKS proxy's answers. It returns true when done.
func (a *appState) readServer(stream []byte, full bool) bool {
	if len(stream) == 0 {
		return full
	}
	if a.socks != nil {
		return a.readSOCKSReply(stream, full)
	}
	var r httpmsg.Response
	st, _ := httpmsg.ParseResponse(stream, &r)
	switch st {
	case httpmsg.NeedMore:
		if !full {
			return false
		}
	case httpmsg.Complete:
		a.httpStatus, a.respHeadLen = r.Status, r.HeadLen
		a.authSchemes, a.via = r.AuthSchemes, r.Via
	}
	a.serverPhase = 1
	return true
}
