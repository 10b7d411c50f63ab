// Command quiclab is the QUIC half of the intunecap network lab: "quiclab server" accepts QUIC handshakes
// (ALPN h3) with a self-signed certificate, "quiclab client" makes one, so record.sh can capture real QUIC
// Initials, answered or dropped. It lives in its own Go module because it uses quic-go, which the product
// never imports.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/quic-go/quic-go"
)

const usage = `usage: quiclab server --listen ADDR [--cert-names N,...]   accept QUIC handshakes (ALPN h3)
       quiclab client --connect IP:PORT --sni NAME [--timeout D]  make one QUIC handshake
`

// alpn is what both ends offer: the handshake looks like an HTTP/3 client's to an observer.
const alpn = "h3"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit status: 0, 1 on failure, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "server":
		err = serverCmd(args[1:], stderr)
	case "client":
		err = clientCmd(args[1:], stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "quiclab: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "quiclab %s: %v\n", args[0], err)
		if _, ok := err.(usageError); ok {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks errors caused by the command line.
type usageError struct{ error }

func serverCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("listen", "", "UDP address to listen on, e.g. 198.18.0.1:443 or [::]:443")
	names := fs.String("cert-names", "", "comma-separated DNS names of the self-signed certificate")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *addr == "" || fs.NArg() > 0 {
		return usageError{errors.New("--listen is required, and nothing else")}
	}
	ln, err := listen(*addr, splitNames(*names))
	if err != nil {
		return err
	}
	defer ln.Close()
	return serve(ln, stderr)
}

// listen opens the QUIC listener with a fresh self-signed certificate for names.
func listen(addr string, names []string) (*quic.Listener, error) {
	cert, err := selfSigned(names)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}
	ln, err := quic.ListenAddr(addr, conf, &quic.Config{})
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// serve accepts connections until the listener closes.
func serve(ln *quic.Listener, stderr io.Writer) error {
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			if errors.Is(err, quic.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		// The client closes once the handshake is done; the server waits for that and never closes first.
		go func() {
			<-conn.Context().Done()
			fmt.Fprintf(stderr, "quiclab server: %s sni=%q closed\n", conn.RemoteAddr(), conn.ConnectionState().TLS.ServerName)
		}()
	}
}

func clientCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	connect := fs.String("connect", "", "server IP:PORT ([v6]:port for IPv6)")
	sni := fs.String("sni", "", "server_name to send")
	timeout := fs.Duration("timeout", 3*time.Second, "handshake timeout")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *connect == "" || *sni == "" || fs.NArg() > 0 {
		return usageError{errors.New("--connect and --sni are required, and nothing else")}
	}
	return handshake(*connect, *sni, *timeout, stdout)
}

// handshake makes one QUIC handshake and closes the connection with application error 0.
func handshake(addr, sni string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The lab's certificate is self-signed: verifying it would prove nothing here.
	conf := &tls.Config{InsecureSkipVerify: true, ServerName: sni, NextProtos: []string{alpn}}
	conn, err := quic.DialAddr(ctx, addr, conf, &quic.Config{HandshakeIdleTimeout: timeout})
	if err != nil {
		return fmt.Errorf("handshake with %s: %w", addr, err)
	}
	st := conn.ConnectionState()
	fmt.Fprintf(stdout, "connected %s sni=%q alpn=%s version=%v\n", addr, sni, st.TLS.NegotiatedProtocol, st.Version)
	return conn.CloseWithError(0, "")
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// selfSigned makes the one certificate the server presents for any SNI; lab clients do not verify it.
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
