package probe

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
)

// Stages, in the analysis engine's words (docs/report.md), so socket and wire stages compare.
const (
	stageAfterQuery   = "after-query"
	stageAfterSyn     = "after-syn"
	stageAfterConnect = "after-connect"
	stageAfterHello   = "after-client-hello"
	stageAfterRequest = "after-request"
)

// ephemeral port range the probe binds its sockets in (IANA's dynamic ports).
const (
	portLo    = 49152
	portHi    = 65535
	bindTries = 8
)

// dialPinned connects from a local port chosen here rather than by the kernel, so that even a connection
// that never completes (a dropped SYN) is known by its four-tuple and can be found in the capture. It
// returns the local address used, also on failure.
func dialPinned(ctx context.Context, network string, remote netip.AddrPort) (net.Conn, netip.AddrPort, error) {
	var lastErr error
	for range bindTries {
		port := randomPort()
		var d net.Dialer
		if network == "tcp" {
			d.LocalAddr = &net.TCPAddr{Port: int(port)}
		} else {
			d.LocalAddr = &net.UDPAddr{Port: int(port)}
		}
		conn, err := d.DialContext(ctx, network, remote.String())
		if errors.Is(err, syscall.EADDRINUSE) {
			lastErr = err
			continue
		}
		local := localOf(conn, port, remote.Addr())
		return conn, local, err
	}
	return nil, netip.AddrPort{}, lastErr
}

func randomPort() uint16 {
	var b [2]byte
	rand.Read(b[:])
	return uint16(portLo + int(binary.BigEndian.Uint16(b[:]))%(portHi-portLo+1))
}

// localOf is the local address of conn, or, when the dial failed, the address the kernel would have used
// towards remote (found with a UDP socket, which sends nothing) with the pinned port.
func localOf(conn net.Conn, port uint16, remote netip.Addr) netip.AddrPort {
	if conn != nil {
		if ap, err := netip.ParseAddrPort(conn.LocalAddr().String()); err == nil {
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	src, ok := SourceAddr(remote)
	if !ok {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(src, port)
}

// SourceAddr is the local address the routing table picks towards dst. It connects a UDP socket, which
// sends no packet.
func SourceAddr(dst netip.Addr) (netip.Addr, bool) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, false
	}
	defer c.Close()
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return ap.Addr().Unmap(), true
}

// classify turns an error at stage into a socket result.
func classify(err error, stage string) Socket {
	s := Socket{Stage: stage, Detail: errText(err)}
	var alert tls.AlertError
	var netErr net.Error
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(s.Detail, "refused"): // Windows: "actively refused it"
		s.Outcome = OutcomeRefused
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || strings.Contains(s.Detail, "reset by peer") ||
		strings.Contains(s.Detail, "forcibly closed"): // Windows' WSAECONNRESET text
		s.Outcome = OutcomeReset
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.As(err, &netErr) && netErr.Timeout():
		s.Outcome = OutcomeTimeout
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		strings.Contains(s.Detail, "unreachable"):
		s.Outcome = OutcomeUnreachable
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s.Outcome = OutcomeClosed
	case errors.As(err, &alert):
		s.Outcome = OutcomeTLSAlert
	case errors.As(err, &recErr):
		s.Outcome, s.Detail = OutcomeTLSError, "the answer is not TLS: "+s.Detail
	default:
		s.Outcome = OutcomeError
	}
	if stage == stageAfterSyn && s.Outcome == OutcomeReset {
		s.Outcome = OutcomeRefused
	}
	return s
}

// errText is an error without Go's "dial tcp 1.2.3.4:443: " prefixes, which repeat what the record says.
func errText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && (strings.HasPrefix(msg, "dial ") || strings.HasPrefix(msg, "read ") ||
		strings.HasPrefix(msg, "write ")) {
		return msg[i+2:]
	}
	return msg
}

// prefixedConn reads what a bufio.Reader had already buffered before reading the connection again, so a
// TLS handshake can follow a proxy's CONNECT answer on the same connection.
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
