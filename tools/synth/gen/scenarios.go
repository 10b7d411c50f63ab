package gen

import (
	"time"
)

// scenario is one kind of session, with its share of all sessions.
type scenario struct {
	name   string
	weight int
	build  func(g *Gen, sc *script)
}

// scenarios lists every kind of session of a mix in a fixed order (the order draws are made in).
func scenarios(mix string) []scenario {
	if mix == MixConns {
		return []scenario{
			{"tls-download", 12, (*Gen).tlsDownload},
			{"tls", 30, (*Gen).tlsShort},
			{"tls-split", 6, (*Gen).tlsSplit},
			{"http", 6, (*Gen).http},
			{"connect-200", 2, (*Gen).connect200},
			{"connect-407", 3, (*Gen).connect407},
			{"reset-after-hello", 8, (*Gen).resetAfterHello},
			{"syn-unanswered", 6, (*Gen).synUnanswered},
			{"refused", 8, (*Gen).refused},
			{"dns-nxdomain", 10, (*Gen).dnsNX},
			{"dns-lost", 3, (*Gen).dnsLost},
		}
	}
	return []scenario{
		{"tls-download", 8, (*Gen).tlsDownload},
		{"tls", 24, (*Gen).tlsShort},
		{"tls-split", 6, (*Gen).tlsSplit},
		{"tls-reordered", 4, (*Gen).tlsReordered},
		{"http", 10, (*Gen).http},
		{"connect-200", 5, (*Gen).connect200},
		{"connect-407", 3, (*Gen).connect407},
		{"reset-after-hello", 4, (*Gen).resetAfterHello},
		{"syn-unanswered", 4, (*Gen).synUnanswered},
		{"refused", 3, (*Gen).refused},
		{"dns-nxdomain", 4, (*Gen).dnsNX},
		{"dns-lost", 2, (*Gen).dnsLost},
	}
}

// direct starts a connection to name's server on port, looking the name up first most of the time.
func (g *Gen) direct(sc *script, l *label, port uint16, outcome string) {
	s := sc.s
	s.name, s.port, s.outcome = l, port, outcome
	s.server, s.sport = serverAddr(l, s.client.Is6()), port
	if g.rng.IntN(10) < 8 {
		sc.lookup(l, "allowed", false, 0)
		sc.handshake(time.Duration(200+g.rng.IntN(2000)) * time.Microsecond)
		return
	}
	sc.handshake(0)
}

func (g *Gen) tlsSession(sc *script, size int) {
	l := g.pickName()
	g.direct(sc, l, 443, "allowed")
	sc.client(clientHello(g.rng, l.name), 100*time.Microsecond)
	sc.server(serverFlight(g.rng, 1200+g.rng.IntN(2000)), sc.rtt)
	sc.ack(false, 60*time.Microsecond)
	sc.download(size, true)
	sc.closeByClient(time.Duration(1+g.rng.IntN(30)) * time.Millisecond)
}

func (g *Gen) tlsDownload(sc *script) { g.tlsSession(sc, g.bulkSize()) }
func (g *Gen) tlsShort(sc *script)    { g.tlsSession(sc, g.shortSize()) }

// splitDownloadMax bounds the download after a split ClientHello: 60 KB, or 6 KB in the connection-heavy mix.
func (g *Gen) splitDownloadMax() int {
	if g.cfg.Mix == MixConns {
		return 6000
	}
	return 60000
}

// shortSize draws the download of a short TLS session: up to 42 KB, or up to 6 KB in the connection-heavy
// mix.
func (g *Gen) shortSize() int {
	if g.cfg.Mix == MixConns {
		return 1000 + g.rng.IntN(5000)
	}
	return 2000 + g.rng.IntN(40000)
}

func (g *Gen) tlsSplit(sc *script)     { g.tlsSplitSession(sc, false) }
func (g *Gen) tlsReordered(sc *script) { g.tlsSplitSession(sc, true) }

// tlsSplitSession sends the ClientHello in two segments, cut anywhere (often inside the SNI).
func (g *Gen) tlsSplitSession(sc *script, reorder bool) {
	l := g.pickName()
	g.direct(sc, l, 443, "allowed")
	hello := clientHello(g.rng, l.name)
	sc.splitClient(hello, 1+g.rng.IntN(len(hello)-1), reorder)
	sc.server(serverFlight(g.rng, 1400), sc.rtt)
	sc.ack(false, 60*time.Microsecond)
	sc.download(g.rng.IntN(g.splitDownloadMax()), true)
	sc.closeByClient(time.Duration(1+g.rng.IntN(30)) * time.Millisecond)
}

func (g *Gen) http(sc *script) {
	l := g.pickName()
	g.direct(sc, l, 80, "allowed")
	size := g.rng.IntN(g.maxBulk/4 + 2000)
	sc.client(httpGet(l.name), 100*time.Microsecond)
	sc.server(httpOK(size), sc.rtt)
	sc.download(size, false)
	sc.closeByClient(time.Duration(1+g.rng.IntN(30)) * time.Millisecond)
}

// viaProxy starts a CONNECT to the proxy for name:443.
func (g *Gen) viaProxy(sc *script, l *label, outcome string) {
	s := sc.s
	s.name, s.port, s.proxied, s.outcome = l, 443, true, outcome
	s.server, s.sport = proxy4, proxyPort
	if s.client.Is6() {
		s.server = proxy6
	}
	sc.handshake(0)
	sc.client(connectRequest(l.name, 443), 100*time.Microsecond)
}

func (g *Gen) connect200(sc *script) {
	l := g.pickName()
	g.viaProxy(sc, l, "allowed")
	sc.server(connectOK, sc.rtt)
	sc.client(clientHello(g.rng, l.name), 100*time.Microsecond)
	sc.server(serverFlight(g.rng, 1400), sc.rtt)
	sc.ack(false, 60*time.Microsecond)
	sc.download(g.rng.IntN(g.maxBulk/2), true)
	sc.closeByClient(time.Duration(1+g.rng.IntN(30)) * time.Millisecond)
}

func (g *Gen) connect407(sc *script) {
	g.viaProxy(sc, g.pickName(), "blocked")
	sc.server(connect407, sc.rtt)
	sc.ack(false, 60*time.Microsecond)
	sc.closeByServer(100 * time.Microsecond)
}

// resetAfterHello: a firewall that reads the SNI and resets the connection.
func (g *Gen) resetAfterHello(sc *script) {
	l := g.pickName()
	g.direct(sc, l, 443, "reset")
	sc.client(clientHello(g.rng, l.name), 100*time.Microsecond)
	sc.add(step{delay: sc.rtt, dir: toClient, flags: rst | ack})
}

// nameless starts a connection whose packets carry no name: whether it has one depends on what the client
// resolved before (the generator's copy of the engine's DNS answer cache decides, at the SYN).
func (g *Gen) nameless(sc *script, outcome string) *session {
	s := sc.s
	l := g.pickName()
	s.port, s.outcome = 443, outcome
	if g.rng.IntN(4) == 0 {
		s.port = 80
	}
	s.sport = s.port
	switch r := g.rng.IntN(10); {
	case r < 6:
		s.server = serverAddr(l, s.client.Is6())
		sc.lookup(l, "allowed", false, 0)
	case r < 8:
		s.server = serverAddr(l, s.client.Is6()) // named only if this client resolved it earlier
	default:
		s.server = unknownServer(g.rng.IntN(50), s.client.Is6())
	}
	return s
}

// synUnanswered: a firewall that drops; the client retransmits its SYN after 1 s and 3 s.
func (g *Gen) synUnanswered(sc *script) {
	g.nameless(sc, "blocked")
	sc.syn(time.Millisecond, true)
	sc.syn(time.Second, false)
	sc.syn(2*time.Second, false)
}

// refused: the server (or a firewall in its name) answers the SYN with a reset.
func (g *Gen) refused(sc *script) {
	g.nameless(sc, "reset")
	sc.syn(time.Millisecond, true)
	sc.add(step{delay: sc.rtt, dir: toClient, flags: rst | ack})
}

func (g *Gen) dnsNX(sc *script) {
	sc.lookup(g.pickFrom(kindFailing), "blocked", false, 0)
}

func (g *Gen) dnsLost(sc *script) {
	sc.lookup(g.pickFrom(kindFailing), "blocked", true, 0)
}

// pickName draws a resolvable name: mostly listed, some unlisted Microsoft names, some others.
func (g *Gen) pickName() *label {
	switch r := g.rng.IntN(10); {
	case r < 6:
		return g.pickFrom(kindListed)
	case r < 8:
		return g.pickFrom(kindUnlisted)
	default:
		return g.pickFrom(kindOther)
	}
}

func (g *Gen) pickFrom(kind int) *label {
	list := g.names[kind]
	return &list[g.rng.IntN(len(list))]
}

// bulkSize draws a download size, skewed towards small with a long tail, capped so that a small capture still
// has many sessions.
func (g *Gen) bulkSize() int {
	n := 64 << 10
	for n < g.maxBulk && g.rng.IntN(3) > 0 {
		n *= 2
	}
	return n/2 + g.rng.IntN(n/2+1)
}
