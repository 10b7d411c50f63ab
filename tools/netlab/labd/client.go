package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// clientConfig describes the one handshake "labd tls-client" makes.
type clientConfig struct {
	connect string
	sni     string
	mlkem   bool
	noSNI   bool
	abort   bool
	get     bool
	timeout time.Duration
}

func tlsClientCmd(args []string, stdout io.Writer) error {
	var c clientConfig
	fs := flag.NewFlagSet("tls-client", flag.ContinueOnError)
	fs.StringVar(&c.connect, "connect", "", "server IP:PORT ([v6]:port for IPv6)")
	fs.StringVar(&c.sni, "sni", "", "server_name to send")
	fs.BoolVar(&c.mlkem, "mlkem", false, "offer only X25519MLKEM768 and X25519 (a ~1.5 KB hello in 2 segments)")
	fs.BoolVar(&c.noSNI, "no-sni", false, "send no server_name extension")
	fs.BoolVar(&c.abort, "abort", false, "reset (SetLinger(0) and close) right after the handshake")
	fs.BoolVar(&c.get, "get", false, "send GET / and read the response before closing")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "connect and handshake timeout")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	case c.connect == "":
		return usageError{errors.New("--connect is required")}
	case c.sni == "" && !c.noSNI:
		return usageError{errors.New("--sni is required (or --no-sni)")}
	}
	return dialTLS(c, stdout)
}

// clientTLSConfig leaves curve preferences at Go's defaults unless --mlkem pins them, so the lab records
// the hello that a current Go program really sends.
func clientTLSConfig(c clientConfig) *tls.Config {
	conf := &tls.Config{InsecureSkipVerify: true, ServerName: c.sni} // the lab's certificate is self-signed
	if c.noSNI {
		conf.ServerName = "" // with no ServerName and no verification Go omits server_name
	}
	if c.mlkem {
		conf.CurvePreferences = []tls.CurveID{tls.X25519MLKEM768, tls.X25519}
	}
	return conf
}

func dialTLS(c clientConfig, stdout io.Writer) error {
	d := net.Dialer{Timeout: c.timeout}
	raw, err := d.Dial("tcp", c.connect)
	if err != nil {
		return fmt.Errorf("connect %s: %w", c.connect, err)
	}
	tc := raw.(*net.TCPConn)
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(c.timeout))
	conn := tls.Client(tc, clientTLSConfig(c))
	if err := conn.Handshake(); err != nil {
		return fmt.Errorf("handshake with %s: %w", c.connect, err)
	}
	st := conn.ConnectionState()
	fmt.Fprintf(stdout, "connected %s sni=%q version=%s curve=%s\n", c.connect, c.sni,
		tls.VersionName(st.Version), st.CurveID)
	if c.abort {
		_ = tc.SetLinger(0)
		return nil
	}
	if c.get {
		if err := get(conn, c.sni, stdout); err != nil {
			return err
		}
	}
	return conn.Close()
}

func get(conn *tls.Conn, host string, stdout io.Writer) error {
	if host == "" {
		host = "lab"
	}
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	// Read exactly the response: labd waits for the client to close first.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read response body: %w", err)
	}
	fmt.Fprintf(stdout, "response %d bytes\n", n)
	return nil
}
