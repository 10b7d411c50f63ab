package analyze

import (
	"net/netip"

	"github.com/intunecap/intunecap/analyze/socksmsg"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// socksState is what a connection to a SOCKS proxy said before its tunnel: the client's request (read from
// the client's stream by readSOCKS) and the proxy's answers (read from the server's by readSOCKSReply). It
// exists from the moment the client's first bytes looked like SOCKS (socksmsg.Sniff).
type socksState struct {
	version   socksmsg.Version
	command   socksmsg.Command // 0 until the request was read
	host      string           // a host-name target (SOCKS4a, SOCKS5 domain)
	addr      netip.Addr       // an address target (SOCKS4, SOCKS5 IPv4/IPv6)
	port      uint16
	frame     uint64         // the frame that completed the request
	reply     socksmsg.Reply // the proxy's answers, as far as read
	replySeen bool           // the proxy's first bytes were a SOCKS answer (method choice or reply)
	// targetName is the DNS name this client had resolved to an address target when the request came: the
	// engine's usual DNS naming, applied to the tunnel's target instead of the proxy's address.
	targetName *nameEvidence
}

// startSOCKS moves the client's reading to the SOCKS phase.
func (a *appState) startSOCKS() {
	a.phase = phaseSOCKS
	a.socks = &socksState{}
}

// readSOCKS reads the client's SOCKS messages. After a CONNECT request the tunnel's first bytes follow, read
// as after an HTTP CONNECT (phaseTunnel). again is true when the phase changed and the loop should go on.
func (a *appState) readSOCKS(data []byte, frame uint64, full bool) (again, done bool) {
	s := a.socks
	var r socksmsg.Request
	switch socksmsg.ParseRequest(data, &r) {
	case socksmsg.NeedMore:
		s.version = r.Version
		if !full {
			return false, false
		}
	case socksmsg.Complete:
		a.transport = result.TransportSOCKS
		s.version, s.command, s.addr, s.port, s.frame = r.Version, r.Command, r.Addr, r.Port, frame
		if r.Host != nil {
			s.host = string(r.Host)
		}
		if r.Command == socksmsg.Connect {
			a.offset += r.Len
			a.phase = phaseTunnel
			return true, false
		}
	default:
		if !s.replySeen { // neither side spoke SOCKS as far as it went: not SOCKS after all
			a.transport = result.TransportUnknown
		}
	}
	a.phase = phaseDone
	return false, true
}

// readSOCKSReply reads the proxy's answers to a SOCKS client. It returns true when done: the proxy has said
// all it says before the tunnel, or its bytes are not SOCKS.
func (a *appState) readSOCKSReply(stream []byte, full bool) bool {
	s := a.socks
	st := socksmsg.ParseReply(stream, s.version, &s.reply)
	if st == socksmsg.NeedMore && !full {
		s.replySeen = s.reply.MethodSeen || s.reply.Replied
		a.noteSOCKSTransport()
		return false
	}
	if st == socksmsg.Invalid {
		s.reply = socksmsg.Reply{}
	}
	s.replySeen = s.reply.MethodSeen || s.reply.Replied
	a.noteSOCKSTransport()
	a.respHeadLen = s.reply.Len
	a.serverPhase = 1
	return true
}

// noteSOCKSTransport makes a connection SOCKS once the proxy answered SOCKS-wise, even when the client never
// sent a request (the proxy accepted none of its methods, or the capture ends first).
func (a *appState) noteSOCKSTransport() {
	if a.socks.replySeen && (a.transport == "" || a.transport == result.TransportUnknown) {
		a.transport = result.TransportSOCKS
	}
}

// socksReplied reports whether the proxy's reply to the request was read.
func (a *appState) socksReplied() bool {
	return a.socks != nil && a.socks.reply.Replied
}

// socksTunnelOpen reports whether the proxy's reply opened the tunnel.
func (a *appState) socksTunnelOpen() bool {
	return a.socks != nil && a.socks.reply.Succeeded(a.socks.version)
}

// socksUndecided reports, for live mode's early reports, that a SOCKS connection's verdict still waits on the
// proxy's reply or on the tunnel's server: serverBytes are all the proxy's own.
func (a *appState) socksUndecided(serverBytes int64) bool {
	return a.transport == result.TransportSOCKS && (!a.socksReplied() ||
		a.socksTunnelOpen() && a.clientHello && serverBytes <= int64(a.respHeadLen))
}

// nameSOCKSTarget looks up the DNS name of an address target, once, when the request has been read.
func (e *Engine) nameSOCKSTarget(c *conn) {
	s := c.app.socks
	if s == nil || s.command != socksmsg.Connect || !s.addr.IsValid() || s.targetName != nil {
		return
	}
	if ev, ok := e.names.get(hostKey{client: c.cli().addr, server: s.addr.Unmap()}); ok {
		s.targetName = ev
	}
}

// record is the record's socks object.
func (s *socksState) record() *result.SOCKS {
	out := &result.SOCKS{Version: s.version.String(), Command: commandName(s.command)}
	if s.reply.Replied {
		code := int(s.reply.Code)
		out.Reply = &code
	}
	if s.version == socksmsg.V5 && s.reply.MethodSeen {
		out.Auth = socksmsg.MethodName(s.reply.Method)
	}
	return out
}

func commandName(c socksmsg.Command) string {
	switch c {
	case socksmsg.Connect:
		return "connect"
	case socksmsg.Bind:
		return "bind"
	case socksmsg.UDPAssociate:
		return "udp-associate"
	}
	return ""
}

// socksOutcome reads a SOCKS proxy's answers: a failure reply, no acceptable authentication method, or
// rejected credentials each mean the proxy did not open the tunnel, like a proxy's 403 to CONNECT.
func socksOutcome(a *appState) (outcome, bool) {
	s := a.socks
	switch {
	case s == nil:
	case s.reply.Replied && !s.reply.Succeeded(s.version):
		return outcome{rules.Blocked, result.StageAfterSOCKS, s.record().RefusalReason()}, true
	case s.reply.MethodSeen && s.reply.Method == socksmsg.MethodNoAcceptable:
		return outcome{rules.Blocked, result.StageAfterSOCKS,
			"the SOCKS proxy accepted none of the client's authentication methods"}, true
	case s.reply.AuthSeen && s.reply.AuthStatus != 0:
		return outcome{rules.Blocked, result.StageAfterSOCKS,
			"the SOCKS proxy rejected the client's user name and password"}, true
	}
	return outcome{}, false
}

// socksResetStage says how far a SOCKS connection that was reset got: the request (no reply yet, or only the
// reply from the server side), else the tunnel's ClientHello.
func (c *conn) socksResetStage() result.Stage {
	a := c.appView()
	if a.socksTunnelOpen() && c.serverBytes <= int64(a.respHeadLen) && a.clientHello {
		return result.StageAfterClientHello
	}
	if !a.socksTunnelOpen() || c.serverBytes <= int64(a.respHeadLen) {
		return result.StageAfterSOCKS
	}
	return ""
}

// socksFields fills the proxy fields of a SOCKS connection's record. The port judged is the target's.
func socksFields(a *appState, r *result.Record) {
	s := a.socks
	r.ViaProxy = true
	r.SOCKS = s.record()
	if s.command == socksmsg.Connect && s.port != 0 {
		r.Port = s.port
	}
}

// nameSOCKS names a SOCKS connection whose tunnel gave no SNI: by the request's host name, or for an address
// target by the name this client's DNS answers gave that address (an address names nothing by itself).
func nameSOCKS(a *appState, r *result.Record, startNs int64) {
	s := a.socks
	switch {
	case usableName(s.host):
		r.Name, r.NameSource, r.NameFrame = s.host, result.NameFromSOCKS, s.frame
	case s.host == "" && s.targetName != nil:
		ev := s.targetName
		r.Name, r.NameSource, r.NameFrame = ev.name, ev.source, ev.frame
		r.DNSChain = ev.dnsChainOf()
		r.NameConfidence = ev.confidence(startNs)
		if r.NameConfidence == result.ConfidenceAmbiguous {
			r.NameCandidates = ev.candidates
		}
	}
}
