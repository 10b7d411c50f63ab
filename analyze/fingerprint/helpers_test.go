package fingerprint_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

// capture names a TCP ClientHello or ServerHello by its file and the frame tshark reports it on (the frame
// of its last byte); shared marks a file of INTUNECAP_SHARED_PCAPS rather than of the repository's testdata.
type capture struct {
	file   string
	frame  int
	shared bool
}

func (c capture) path(t *testing.T) string {
	if c.shared {
		return filepath.Join(sharedDir(t), c.file)
	}
	return filepath.Join("..", "..", "testdata", "pcaps", c.file)
}

// sharedDir is pcaptest.SharedDir, but under CI=true a missing INTUNECAP_SHARED_PCAPS fails the test: CI must
// run the checks against the shared captures, not skip them.
func sharedDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("INTUNECAP_SHARED_PCAPS") == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but INTUNECAP_SHARED_PCAPS is not set: the shared public captures are required")
	}
	return pcaptest.SharedDir(t)
}

// clientFacts parses the ClientHello of c with tlshello, the way the engine will.
func clientFacts(t *testing.T, c capture) fingerprint.ClientFacts {
	t.Helper()
	for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, c.path(t))) {
		if h, n, ok := helloAt(st.Data); ok && st.Frames[n-1] == c.frame {
			return h.Facts()
		}
	}
	t.Fatalf("%s: no ClientHello ending in frame %d", c.file, c.frame)
	return fingerprint.ClientFacts{}
}

// helloAt parses the ClientHello at the start of data, growing the prefix as Parse asks.
func helloAt(data []byte) (*tlshello.Hello, int, bool) {
	h := new(tlshello.Hello)
	for n := 0; n <= len(data); {
		st, need, _ := tlshello.Parse(data[:n], h)
		switch {
		case st == tlshello.Complete:
			return h, n, true
		case st != tlshello.NeedMore || need > len(data):
			return nil, 0, false
		}
		n = need
	}
	return nil, 0, false
}

// serverFacts reads the ServerHello at the start of the server stream of c. It is a test-only reader for a
// ServerHello alone at the start of one record, which is enough for the captures named here.
func serverFacts(t *testing.T, c capture) fingerprint.ServerFacts {
	t.Helper()
	for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, c.path(t))) {
		if s, n, err := serverHello(st.Data); err == nil && st.Frames[n-1] == c.frame {
			return s
		}
	}
	t.Fatalf("%s: no ServerHello in frame %d", c.file, c.frame)
	return fingerprint.ServerFacts{}
}

// serverHello reads a TLS record starting with a ServerHello (RFC 8446 4.1.3); it returns the facts and the
// length of that record, header included (tshark reports the ServerHello on the frame that completes it).
func serverHello(b []byte) (fingerprint.ServerFacts, int, error) {
	var s fingerprint.ServerFacts
	r := cursor{b: b}
	if r.u8() != 22 || r.skip(4) || r.u8() != 2 {
		return s, 0, fmt.Errorf("not a server hello record")
	}
	n := 9 + (int(r.u8())<<16 | int(r.u16()))
	if n > len(b) || int(b[3])<<8|int(b[4]) < n-5 {
		return s, 0, fmt.Errorf("server hello not alone in one record")
	}
	r = cursor{b: b[9:n]}
	s.LegacyVersion = r.u16()
	r.skip(32)
	r.skip(int(r.u8()))
	s.Cipher = r.u16()
	r.skip(1)
	exts := cursor{b: r.take(int(r.u16()))}
	for len(exts.b) >= 4 && !exts.bad {
		typ := exts.u16()
		data := cursor{b: exts.take(int(exts.u16()))}
		s.Extensions = append(s.Extensions, typ)
		switch typ {
		case 43:
			s.SelectedVersion = data.u16()
		case 16:
			list := cursor{b: data.take(int(data.u16()))}
			s.ALPN = string(list.take(int(list.u8())))
		}
	}
	if r.bad || exts.bad {
		return s, 0, fmt.Errorf("server hello runs past its record")
	}
	return s, min(len(b), 5+(int(b[3])<<8|int(b[4]))), nil
}

type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) take(n int) []byte {
	if n > len(c.b) {
		c.bad = true
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) skip(n int) bool { return c.take(n) == nil && n > 0 }

func (c *cursor) u8() uint8 {
	if v := c.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if v := c.take(2); v != nil {
		return uint16(v[0])<<8 | uint16(v[1])
	}
	return 0
}
