package fingerprint_test

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/analyze/tlshello"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

var (
	md5Format   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	ja3Format   = regexp.MustCompile(`^\d+,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?$`)
	ja4RFormat  = regexp.MustCompile(`^[tqd](13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{4}[0-9A-Za-z]{2}_([0-9a-f]{4}(,[0-9a-f]{4})*)?_([0-9a-f]{4}(,[0-9a-f]{4})*)?(_[0-9a-f]{4}(,[0-9a-f]{4})*)?$`)
	transports  = []fingerprint.Transport{fingerprint.TCP, fingerprint.QUIC, fingerprint.DTLS, 'x'}
	spaceOfJA4S = regexp.MustCompile(`^[tqd](13|12|11|10|s3|s2|d1|d2|d3|00)\d\d[0-9A-Za-z]{2}_[0-9a-f]{4}_([0-9a-f]{4}(,[0-9a-f]{4})*)?$`)
)

// facts decodes fuzz bytes into hello facts: a transport selector, the legacy version, then each list as a
// count byte followed by that many values (16-bit big-endian, or bytes for point formats and ALPN values).
type facts struct {
	b []byte
}

func (f *facts) u8() int {
	if len(f.b) == 0 {
		return 0
	}
	v := f.b[0]
	f.b = f.b[1:]
	return int(v)
}

func (f *facts) u16() uint16 { return uint16(f.u8())<<8 | uint16(f.u8()) }

func (f *facts) list() []uint16 {
	n := f.u8()
	out := make([]uint16, 0, n)
	for range n {
		out = append(out, f.u16())
	}
	return out
}

func decode(data []byte) (fingerprint.ClientFacts, fingerprint.ServerFacts, fingerprint.Transport) {
	f := facts{b: data}
	tr := transports[f.u8()%len(transports)]
	c := fingerprint.ClientFacts{LegacyVersion: f.u16(), Ciphers: f.list(), Extensions: f.list(), Groups: f.list(),
		SigAlgs: f.list(), Versions: f.list()}
	for range f.u8() % 4 {
		c.PointFormats = append(c.PointFormats, byte(f.u8()))
	}
	for range f.u8() % 4 {
		n := f.u8() % 8
		v := make([]byte, 0, n)
		for range n {
			v = append(v, byte(f.u8()))
		}
		c.ALPN = append(c.ALPN, string(v))
	}
	s := fingerprint.ServerFacts{LegacyVersion: f.u16(), SelectedVersion: f.u16(), Cipher: f.u16(), Extensions: f.list()}
	if len(c.ALPN) > 0 {
		s.ALPN = c.ALPN[len(c.ALPN)-1]
	}
	return c, s, tr
}

// FuzzJA4 fingerprints random facts: never a panic, every output in its format, each hash the SHA-256 or
// MD5 of the raw form the package also returns, and a Memo's answers the same as the functions'.
func FuzzJA4(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 3, 3, 2, 0x0a, 0x0a, 0x13, 0x01, 3, 0, 0, 0, 0x10, 0xfa, 0xfa, 1, 0, 0x1d, 1, 4, 3, 1, 3, 4, 1, 0, 1, 2, 'h', '2'})
	f.Add([]byte{1, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 2, 1, 0xab, 3, 3, 0x13, 2, 1, 0x00, 0x2b})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, s, tr := decode(data)
		checkClient(t, c, tr)
		checkServer(t, s, tr)
		checkMemo(t, new(fingerprint.Memo), c, s, tr)
	})
}

// FuzzHelloJA4 runs random stream bytes through tlshello.Parse and fingerprints every complete hello.
func FuzzHelloJA4(f *testing.F) {
	for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(f, filepath.Join("..", "..", "testdata", "pcaps", "tls-allowed.pcap"))) {
		f.Add(st.Data)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		var h tlshello.Hello
		if st, _, _ := tlshello.Parse(stream, &h); st != tlshello.Complete {
			return
		}
		for _, tr := range transports[:3] {
			checkClient(t, h.Facts(), tr)
		}
	})
}

func checkClient(t *testing.T, c fingerprint.ClientFacts, tr fingerprint.Transport) {
	ja4, raw := fingerprint.JA4(c, tr), fingerprint.JA4Raw(c, tr)
	if tr == 'x' {
		if ja4 != "" || raw != "" {
			t.Fatalf("transport x: %q %q", ja4, raw)
		}
	} else {
		if !ja4Format.MatchString(ja4) || !ja4RFormat.MatchString(raw) {
			t.Fatalf("JA4 %q, JA4_r %q out of format", ja4, raw)
		}
		a, rest, _ := strings.Cut(raw, "_")
		b, cpart, _ := strings.Cut(rest, "_")
		exts, _, _ := strings.Cut(cpart, "_")
		wantC := hash12(cpart)
		if exts == "" {
			wantC = "000000000000"
		}
		if want := a + "_" + hash12(b) + "_" + wantC; ja4 != want {
			t.Fatalf("JA4 %s is not the hash of JA4_r %s (%s)", ja4, raw, want)
		}
	}
	full := fingerprint.JA3Full(c)
	if !ja3Format.MatchString(full) || fingerprint.JA3(c) != md5Hex(full) || !md5Format.MatchString(fingerprint.JA3(c)) {
		t.Fatalf("JA3 %q of %q", fingerprint.JA3(c), full)
	}
}

func checkServer(t *testing.T, s fingerprint.ServerFacts, tr fingerprint.Transport) {
	ja4s, raw := fingerprint.JA4S(s, tr), fingerprint.JA4SRaw(s, tr)
	if tr != 'x' && (!ja4SFormat.MatchString(ja4s) || !spaceOfJA4S.MatchString(raw) || ja4s[:13] != raw[:13] || ja4s[13:] != hash12(raw[13:])) {
		t.Fatalf("JA4S %q, JA4S_r %q", ja4s, raw)
	}
	if full := fingerprint.JA3SFull(s); fingerprint.JA3S(s) != md5Hex(full) {
		t.Fatalf("JA3S of %q", full)
	}
}

func hash12(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
