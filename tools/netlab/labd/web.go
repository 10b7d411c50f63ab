package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"time"
)

// connTimeout bounds every lab connection, so a client that vanishes cannot keep a goroutine forever. It is
// long on purpose: a connection whose ClientHello an iptables rule swallowed must stay silent until the
// capture ends, not time out and send a FIN in the middle of a later scenario.
const connTimeout = 60 * time.Second

// maxRequest is the most of a request head the lab reads; scenario requests are a few hundred bytes.
const maxRequest = 16 << 10

// handle serves one TLS or plain HTTP connection. The order of closing matters for the recorded flow
// state: the server never writes to a client that has already closed (its kernel would answer RST), and
// after responding it waits for the client to close, so the client's last bytes are read, not reset.
func (s *server) handle(tc *net.TCPConn, useTLS bool) {
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(connTimeout))
	var rw io.ReadWriter = tc
	var tlsConn *tls.Conn
	if useTLS {
		tlsConn = tls.Server(tc, s.tlsConf)
		if err := tlsConn.Handshake(); err != nil {
			return
		}
		rw = tlsConn
	}
	head, err := readHead(rw)
	if err != nil {
		return // the client closed (or aborted) without a request: end quietly with FIN
	}
	reset := s.resetAfter(tc.LocalAddr())
	if _, err := rw.Write(response(head, reset)); err != nil {
		return
	}
	if reset {
		_ = tc.SetLinger(0) // close now sends RST: the "reset after data" endpoint
		return
	}
	// Leave the close to the client (the response says Connection: close): a server that closes first
	// gets the client's late close_notify on a dead socket and answers RST, through a proxy too.
	_, _ = io.Copy(io.Discard, tc)
}

// readHead reads an HTTP request head (up to the blank line).
func readHead(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, 1024)
	tmp := make([]byte, 1024)
	for len(buf) < maxRequest {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if bytes.Contains(buf, []byte("\r\n\r\n")) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read request: %w", err)
		}
	}
	return nil, errors.New("read request: head too long")
}

// response is a small fixed answer naming the Host the client asked for, so curl output shows which
// lab endpoint it reached. With cut, the response promises more body than it holds, so that the client waits for the rest instead of
// closing: the server's RST then always comes before any FIN of the client, and the recording does not depend
// on which of the two is faster.
func response(head []byte, cut bool) []byte {
	host := "-"
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("host")) {
			host = string(bytes.TrimSpace(v))
			break
		}
	}
	body := "labd: hello " + host + "\n"
	length := len(body)
	if cut {
		length += 1000
	}
	return []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(length) + "\r\nConnection: close\r\n\r\n" + body)
}

// selfSigned makes the one certificate every TLS listener serves, whatever the SNI: lab clients do not
// verify it, so one key generated at start is enough and nothing secret is stored on disk.
func selfSigned(names []string) (tls.Certificate, error) {
	if len(names) == 0 {
		names = []string{"intunecap-lab.invalid"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"intunecap lab"}},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
