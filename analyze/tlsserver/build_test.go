package tlsserver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// Builders of TLS bytes for the tests, written from RFC 5246 and 8446.

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }
func u24(v int) []byte { return []byte{byte(v >> 16), byte(v >> 8), byte(v)} }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// record wraps payload in one record of type typ, version 0x0303.
func record(typ byte, payload []byte) []byte {
	return cat([]byte{typ, 3, 3}, u16(len(payload)), payload)
}

// records cuts a content stream into records of at most size bytes each.
func records(typ byte, content []byte, size int) []byte {
	var out []byte
	for len(content) > 0 {
		n := min(size, len(content))
		out = append(out, record(typ, content[:n])...)
		content = content[n:]
	}
	return out
}

func message(typ byte, body []byte) []byte { return cat([]byte{typ}, u24(len(body)), body) }

type ext struct {
	typ  int
	data []byte
}

// serverHello builds a ServerHello message with a 32-byte session id.
func serverHello(version, cipher int, exts ...ext) []byte {
	body := cat(u16(version), bytes.Repeat([]byte{0x11}, 32), []byte{32}, bytes.Repeat([]byte{0x22}, 32), u16(cipher), []byte{0})
	if exts != nil {
		var e []byte
		for _, x := range exts {
			e = cat(e, u16(x.typ), u16(len(x.data)), x.data)
		}
		body = cat(body, u16(len(e)), e)
	}
	return message(msgServerHello, body)
}

func alpnExt(p string) ext {
	return ext{extALPN, cat(u16(len(p)+1), []byte{byte(len(p))}, []byte(p))}
}

func versionsExt(v int) ext { return ext{extSupportedVersions, u16(v)} }

// certificateMsg builds a TLS 1.2 Certificate message.
func certificateMsg(ders ...[]byte) []byte {
	var list []byte
	for _, d := range ders {
		list = cat(list, u24(len(d)), d)
	}
	return message(msgCertificate, cat(u24(len(list)), list))
}

var helloDone = message(msgServerHelloDone, nil)

// flightIn runs Parse the way the engine does: grow the prefix to the size Parse asks for until it decides.
func flightIn(data []byte) (*Flight, Status, int, error) {
	f := &Flight{}
	for n := 0; ; {
		st, need, err := Parse(data[:n], f)
		if st != NeedMore {
			return f, st, n, err
		}
		if need <= n {
			panic("Parse asked for no more bytes")
		}
		if n == len(data) {
			return f, NeedMore, n, nil
		}
		n = min(need, len(data))
	}
}

// feedIn feeds data in segments of seg bytes.
func feedIn(data []byte, seg int) (*Flight, Status, error) {
	f := &Flight{}
	st, err := NeedMore, error(nil)
	for len(data) > 0 && st == NeedMore {
		n := min(seg, len(data))
		st, err = f.Feed(data[:n])
		data = data[n:]
	}
	return f, st, err
}

// testCert is a self-signed ECDSA certificate for name.
func testCert(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Unix(1e9, 0), NotAfter: time.Unix(3e9, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, der}, PrivateKey: key}
}

// recorder keeps what a connection writes.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(b)
	r.mu.Unlock()
	return r.Conn.Write(b)
}

// goFlight runs a crypto/tls handshake over a pipe and returns the bytes the server wrote: real bytes from
// an independent implementation.
func goFlight(t testing.TB, cert tls.Certificate, server, client *tls.Config) []byte {
	t.Helper()
	c1, c2 := net.Pipe()
	rec := &recorder{Conn: c2}
	server.Certificates = []tls.Certificate{cert}
	srv := tls.Server(rec, server)
	cli := tls.Client(c1, client)
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	cerr := cli.Handshake()
	serr := <-done
	c1.Close()
	c2.Close()
	if cerr != nil && client.InsecureSkipVerify || serr != nil && client.InsecureSkipVerify {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return bytes.Clone(rec.out.Bytes())
}
