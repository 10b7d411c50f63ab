package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
)

// serveConfig is everything "labd serve" listens on.
type serveConfig struct {
	dns, tls, http listFlag
	zone           string
	certNames      listFlag
	rstAfter       listFlag
}

func serveCmd(args []string, stderr io.Writer) error {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&c.dns, "dns", "DNS address (UDP and TCP), repeatable: 198.18.0.1:53")
	fs.StringVar(&c.zone, "zone", "", "zone file (see tools/netlab/zone.txt)")
	fs.Var(&c.tls, "tls", "TLS listen address, repeatable: :443")
	fs.Var(&c.http, "http", "HTTP/1.1 listen address, repeatable: :80")
	fs.Var(&c.certNames, "cert-names", "DNS names in the self-signed certificate (it is served for any SNI)")
	fs.Var(&c.rstAfter, "rst-after-response", "local IP or IP:PORT whose connections are reset (RST) after the response, repeatable")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if len(c.dns) > 0 && c.zone == "" {
		return usageError{errors.New("--dns needs --zone")}
	}
	s, err := newServer(c)
	if err != nil {
		return err
	}
	return s.run()
}

// server owns the listeners of one "labd serve" process.
type server struct {
	cfg      serveConfig
	zone     *zone
	tlsConf  *tls.Config
	rst      []rstMatch
	closers  []io.Closer
	starters []func() error
}

// rstMatch selects connections by their local address; port 0 matches any port.
type rstMatch struct {
	addr netip.Addr
	port uint16
}

func newServer(c serveConfig) (*server, error) {
	s := &server{cfg: c}
	for _, v := range c.rstAfter {
		m, err := parseRstMatch(v)
		if err != nil {
			return nil, usageError{err}
		}
		s.rst = append(s.rst, m)
	}
	if c.zone != "" {
		f, err := os.Open(c.zone)
		if err != nil {
			return nil, fmt.Errorf("open zone: %w", err)
		}
		defer f.Close()
		if s.zone, err = parseZone(f); err != nil {
			return nil, fmt.Errorf("zone %s: %w", c.zone, err)
		}
	}
	if len(c.tls) > 0 {
		cert, err := selfSigned(c.certNames)
		if err != nil {
			return nil, err
		}
		s.tlsConf = &tls.Config{
			Certificates: []tls.Certificate{cert},
			// No TLS 1.3 tickets: a client that closes right after the handshake would leave them unread
			// and its kernel would answer with RST, making the recorded flow state depend on timing.
			SessionTicketsDisabled: true,
		}
	}
	return s, nil
}

func parseRstMatch(v string) (rstMatch, error) {
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return rstMatch{ap.Addr().Unmap(), ap.Port()}, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return rstMatch{}, fmt.Errorf("--rst-after-response %q: want IP or IP:PORT", v)
	}
	return rstMatch{addr: a.Unmap()}, nil
}

// resetAfter says whether a connection accepted at local should end with RST after the response.
func (s *server) resetAfter(local net.Addr) bool {
	ap, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return false
	}
	for _, m := range s.rst {
		if m.addr == ap.Addr().Unmap() && (m.port == 0 || m.port == ap.Port()) {
			return true
		}
	}
	return false
}

// run opens every listener first, so that a bad address fails before anything serves, then serves until
// SIGINT or SIGTERM.
func (s *server) run() error {
	defer func() {
		for _, c := range s.closers {
			c.Close()
		}
	}()
	if err := s.listenAll(); err != nil {
		return err
	}
	errc := make(chan error, len(s.starters))
	for _, start := range s.starters {
		go func() { errc <- start() }()
	}
	log.Printf("labd: serving dns=%v tls=%v http=%v", s.cfg.dns, s.cfg.tls, s.cfg.http)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
		return nil
	case err := <-errc:
		return err
	}
}

func (s *server) listenAll() error {
	for _, a := range s.cfg.dns {
		pc, err := net.ListenPacket("udp", a)
		if err != nil {
			return fmt.Errorf("dns udp: %w", err)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			pc.Close()
			return fmt.Errorf("dns tcp: %w", err)
		}
		s.closers = append(s.closers, pc, ln)
		s.starters = append(s.starters, func() error { return serveDNSUDP(pc, s.zone) },
			func() error { return serveDNSTCP(ln, s.zone) })
	}
	for _, group := range []struct {
		addrs  listFlag
		useTLS bool
	}{{s.cfg.tls, true}, {s.cfg.http, false}} {
		for _, a := range group.addrs {
			ln, err := net.Listen("tcp", a)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			s.closers = append(s.closers, ln)
			useTLS := group.useTLS
			s.starters = append(s.starters, func() error { return s.acceptLoop(ln, useTLS) })
		}
	}
	return nil
}

func (s *server) acceptLoop(ln net.Listener, useTLS bool) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go s.handle(c.(*net.TCPConn), useTLS)
	}
}
