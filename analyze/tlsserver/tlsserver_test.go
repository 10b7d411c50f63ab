package tlsserver

import (
	"bytes"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
)

var (
	leafDER = bytes.Repeat([]byte{0x30}, 700)
	caDER   = bytes.Repeat([]byte{0x31}, 900)
)

type want struct {
	status    Status
	version   string
	cipher    string
	alpn      string
	exts      []uint16
	chain     ChainState
	certs     int // len(Chain)
	count     int // CertificateCount
	done      bool
	resumed   bool
	tooLarge  bool
	retry     bool
	alert     string
	errSubstr string
}

func TestFlights(t *testing.T) {
	tls12 := cat(record(22, serverHello(0x0303, 0xc02f, alpnExt("h2"), ext{0xff01, []byte{0}})),
		record(22, certificateMsg(leafDER, caDER)), record(22, message(12, make([]byte, 300))), record(22, helloDone))
	tests := []struct {
		name string
		data []byte
		want want
	}{
		{"tls1.2 full flight", tls12, want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			alpn: "h2", exts: []uint16{16, 0xff01}, chain: ChainComplete, certs: 2, count: 2, done: true}},
		{"one record holds every message", record(22, cat(serverHello(0x0303, 0x009c), certificateMsg(leafDER), helloDone)),
			want{status: Complete, version: "1.2", cipher: "TLS_RSA_WITH_AES_128_GCM_SHA256", chain: ChainComplete, certs: 1, count: 1, done: true}},
		{"certificate over 64-byte records", cat(record(22, serverHello(0x0302, 0xc014)),
			records(22, cat(certificateMsg(leafDER, caDER, leafDER), helloDone), 64)),
			want{status: Complete, version: "1.1", cipher: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", chain: ChainComplete, certs: 3, count: 3, done: true}},
		{"every message split over 1-byte records", records(22, cat(serverHello(0x0301, 0x002f), certificateMsg(leafDER), helloDone), 1),
			want{status: Complete, version: "1.0", cipher: "TLS_RSA_WITH_AES_128_CBC_SHA", chain: ChainComplete, certs: 1, count: 1, done: true}},
		{"tls1.3 stops after server hello", cat(record(22, serverHello(0x0303, 0x1301, versionsExt(0x0304), ext{51, make([]byte, 36)})),
			record(20, []byte{1}), record(23, make([]byte, 40))),
			want{status: Complete, version: "1.3", cipher: "TLS_AES_128_GCM_SHA256", exts: []uint16{43, 51}, chain: ChainHidden}},
		{"tls1.3 draft", record(22, serverHello(0x0303, 0x1302, versionsExt(0x7f17))),
			want{status: Complete, version: "draft-23", cipher: "TLS_AES_256_GCM_SHA384", exts: []uint16{43}, chain: ChainHidden}},
		{"tls1.3 draft-18 layout", record(22, message(2, cat(u16(0x7f12), make([]byte, 32), u16(0x1301), u16(8), u16(51), u16(4), make([]byte, 4)))),
			want{status: Complete, version: "draft-18", cipher: "TLS_AES_128_GCM_SHA256", exts: []uint16{51}, chain: ChainHidden}},
		{"hello retry request", record(22, helloRetry()),
			want{status: Complete, version: "1.3", cipher: "TLS_AES_128_GCM_SHA256", exts: []uint16{43}, chain: ChainHidden, retry: true}},
		{"resumed session", cat(record(22, serverHello(0x0303, 0xc030)), record(20, []byte{1}), record(22, make([]byte, 40))),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", chain: ChainNone, resumed: true}},
		{"anonymous suite without certificate", cat(record(22, serverHello(0x0303, 0xc018)), record(22, message(12, make([]byte, 70))), record(22, helloDone)),
			want{status: Complete, version: "1.2", cipher: "0xc018", chain: ChainNone, done: true}},
		{"fatal alert instead of a server hello", record(21, []byte{2, 40}),
			want{status: Complete, chain: ChainNone, alert: "fatal handshake_failure"}},
		{"alert with tls1.0 record version", []byte{21, 3, 1, 0, 2, 2, 70},
			want{status: Complete, alert: "fatal protocol_version"}},
		{"warning alert then flight", cat(record(21, []byte{1, 112}), tls12[:len(tls12)-9], record(22, helloDone)),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", alpn: "h2", exts: []uint16{16, 0xff01},
				chain: ChainComplete, certs: 2, count: 2, done: true, alert: "warning unrecognized_name"}},
		{"alert after certificate", cat(record(22, serverHello(0x0303, 0xc02f)), record(22, certificateMsg(leafDER)), record(21, []byte{2, 80})),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain: ChainComplete, certs: 1, count: 1, alert: "fatal internal_error"}},
		{"close_notify ends", cat(record(22, serverHello(0x0303, 0xc02f)), record(21, []byte{1, 0})),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", alert: "warning close_notify"}},
		{"hello request before the hello is skipped", cat(record(22, message(0, nil)), record(22, serverHello(0x0303, 0x1303, versionsExt(0x0304)))),
			want{status: Complete, version: "1.3", cipher: "TLS_CHACHA20_POLY1305_SHA256", exts: []uint16{43}, chain: ChainHidden}},
		{"more than MaxCerts certificates", cat(record(22, serverHello(0x0303, 0xc02f)), records(22, certificateMsg(slices.Repeat([][]byte{caDER}, 12)...), 1<<14)),
			want{status: NeedMore, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain: ChainTruncated, certs: MaxCerts, count: 12}},
		{"one certificate over MaxCert", cat(record(22, serverHello(0x0303, 0xc02f)), records(22, cat(certificateMsg(leafDER, make([]byte, MaxCert+1)), helloDone), 1<<14)),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain: ChainTooLarge, certs: 1, count: 2, done: true}},
		{"certificate message over MaxFlight", cat(record(22, serverHello(0x0303, 0xc02f)), records(22, certificateMsg(make([]byte, MaxFlight)), 1<<14)),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain: ChainTooLarge, tooLarge: true}},
		{"flight over MaxFlight after the chain", cat(record(22, serverHello(0x0303, 0xc02f)), record(22, certificateMsg(leafDER)), records(22, message(13, make([]byte, MaxFlight)), 1<<14)),
			want{status: Complete, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", chain: ChainComplete, certs: 1, count: 1, tooLarge: true}},
		{"http answer", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), want{status: NotTLS, errSubstr: "not a tls handshake"}},
		{"ssh banner", []byte("SSH-2.0-OpenSSH_9.2\r\n"), want{status: NotTLS, errSubstr: "not a tls handshake"}},
		{"record version 3.5", []byte{22, 3, 5, 0, 1}, want{status: NotTLS}},
		{"empty handshake record", cat(record(22, nil)), want{status: Malformed, errSubstr: "empty handshake record"}},
		{"record too long", []byte{22, 3, 3, 0xff, 0xff}, want{status: Malformed, errSubstr: "length 65535"}},
		{"unknown record type later", cat(record(22, serverHello(0x0303, 0xc02f)), record(99, []byte{1})),
			want{status: Malformed, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", errSubstr: "content type 99"}},
		{"certificate before the hello", record(22, certificateMsg(leafDER)), want{status: Malformed, errSubstr: "type 11 before the server hello"}},
		{"application data before the hello", cat(record(23, []byte{1, 2, 3})), want{status: NotTLS}},
		{"change cipher spec inside a message", cat(record(22, serverHello(0x0303, 0xc02f)), record(22, certificateMsg(leafDER)[:10]), record(20, []byte{1})),
			want{status: Malformed, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", errSubstr: "before a whole server hello"}},
		{"server hello runs past its message", record(22, message(2, make([]byte, 30))), want{status: Malformed, errSubstr: "fixed part"}},
		{"server hello extension length wrong", record(22, message(2, cat(serverHello(0x0303, 0xc02f)[4:], u16(8), u16(16), u16(5), make([]byte, 4)))),
			want{status: Malformed, errSubstr: "extension 16"}},
		{"alpn with two protocols", record(22, serverHello(0x0303, 0xc02f, ext{16, cat(u16(6), []byte{2, 'h', '2', 2, 'h', '3'})})),
			want{status: Malformed, exts: []uint16{16}, errSubstr: "exactly one protocol"}},
		{"certificate list length wrong", cat(record(22, serverHello(0x0303, 0xc02f)), record(22, message(11, cat(u24(6), u24(2), []byte{1, 2})))),
			want{status: Malformed, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", errSubstr: "tls certificate"}},
		{"second server hello", cat(record(22, serverHello(0x0303, 0xc02f)), record(22, serverHello(0x0303, 0xc02f))),
			want{status: Malformed, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", errSubstr: "second server hello"}},
		{"truncated flight", tls12[:len(tls12)-3], want{status: NeedMore, version: "1.2", cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			alpn: "h2", exts: []uint16{16, 0xff01}, chain: ChainComplete, certs: 2, count: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, st, _, err := flightIn(tc.data)
			check(t, "parse", f, st, err, tc.want)
			for _, seg := range []int{1, 7, 1460} {
				f, st, err := feedIn(tc.data, seg)
				check(t, "feed", f, st, err, tc.want)
			}
		})
	}
}

// helloRetry is a HelloRetryRequest: a ServerHello with the special random.
func helloRetry() []byte {
	m := serverHello(0x0303, 0x1301, versionsExt(0x0304))
	copy(m[4+2:], helloRetryRandom[:])
	return m
}

func check(t *testing.T, how string, f *Flight, st Status, err error, w want) {
	t.Helper()
	got := want{status: st, chain: f.ChainState, certs: len(f.Chain), count: f.CertificateCount, done: f.HelloDone,
		resumed: f.Resumed, tooLarge: f.FlightTooLarge, retry: f.HelloRetry, alert: f.Alert.String(), alpn: f.ALPN, exts: f.Extensions}
	if f.ServerHello {
		got.version, got.cipher = VersionName(f.Version), CipherName(f.CipherSuite)
	}
	if len(got.exts) == 0 {
		got.exts = nil
	}
	if w.errSubstr != "" {
		if err == nil || !strings.Contains(err.Error(), w.errSubstr) {
			t.Errorf("%s: error %v, want one with %q", how, err, w.errSubstr)
		}
	}
	got.errSubstr = w.errSubstr
	if (st == Malformed || st == NotTLS) != (err != nil) {
		t.Errorf("%s: status %v with error %v", how, st, err)
	}
	if !equalWant(got, w) {
		t.Errorf("%s:\n got  %+v\n want %+v (err %v)", how, got, w, err)
	}
	for i, c := range f.Chain {
		if len(c) == 0 || (c[0] != 0x30 && c[0] != 0x31 && c[0] != 0) {
			t.Errorf("%s: chain[%d] starts % x", how, i, c[:min(4, len(c))])
		}
	}
}

func equalWant(a, b want) bool {
	return slices.Equal(a.exts, b.exts) && a.status == b.status && a.version == b.version && a.cipher == b.cipher &&
		a.alpn == b.alpn && a.chain == b.chain && a.certs == b.certs && a.count == b.count && a.done == b.done &&
		a.resumed == b.resumed && a.tooLarge == b.tooLarge && a.retry == b.retry && a.alert == b.alert
}

// TestChainBytes checks that Chain holds exactly the certificates, whatever the record and segment cuts.
func TestChainBytes(t *testing.T) {
	leaf, ca := bytes.Repeat([]byte{0x30, 1}, 600), bytes.Repeat([]byte{0x30, 2}, 1100)
	content := cat(serverHello(0x0303, 0xc02f), certificateMsg(leaf, ca), helloDone)
	for _, rec := range []int{1, 3, 100, 1 << 14} {
		data := records(22, content, rec)
		for _, seg := range []int{1, 5, 536, len(data)} {
			f, st, err := feedIn(data, seg)
			if st != Complete || len(f.Chain) != 2 || !bytes.Equal(f.Chain[0], leaf) || !bytes.Equal(f.Chain[1], ca) {
				t.Errorf("records of %d, segments of %d: %v %v, %d certs", rec, seg, st, err, len(f.Chain))
			}
		}
	}
}

// TestPrefixes checks that every proper prefix of a flight is NeedMore and asks for more than it has.
func TestPrefixes(t *testing.T) {
	data := cat(records(22, cat(serverHello(0x0303, 0xc02f, alpnExt("http/1.1")), certificateMsg(leafDER, caDER)), 200), record(22, helloDone))
	for i := 0; i < len(data); i++ {
		var f Flight
		st, need, err := Parse(data[:i], &f)
		if st != NeedMore || need <= i || need > MaxFlight {
			t.Fatalf("prefix %d/%d: %v need %d err %v", i, len(data), st, need, err)
		}
	}
}

// TestGoServer reads flights written by crypto/tls: TLS 1.0–1.2 with the chain, TLS 1.3 hidden.
func TestGoServer(t *testing.T) {
	cert := testCert(t, "enrollment.manage.microsoft.com")
	tests := []struct {
		version uint16
		cipher  uint16
		alpn    string
	}{
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "h2"},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, ""},
		{tls.VersionTLS11, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "http/1.1"},
		{tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, ""},
		{tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, "h2"},
	}
	for _, tc := range tests {
		t.Run(VersionName(tc.version)+"/"+tls.CipherSuiteName(tc.cipher), func(t *testing.T) {
			server := &tls.Config{MinVersion: tc.version, MaxVersion: tc.version, CipherSuites: []uint16{tc.cipher}}
			client := &tls.Config{MinVersion: tc.version, MaxVersion: tc.version, InsecureSkipVerify: true,
				CipherSuites: []uint16{tc.cipher}, ServerName: "enrollment.manage.microsoft.com"}
			if tc.alpn != "" {
				server.NextProtos, client.NextProtos = []string{tc.alpn}, []string{tc.alpn}
			}
			data := goFlight(t, cert, server, client)
			f, st, _, err := flightIn(data)
			if st != Complete || f.Version != tc.version || f.CipherSuite != tc.cipher || CipherName(f.CipherSuite) != tls.CipherSuiteName(tc.cipher) {
				t.Fatalf("%v %v: version %#04x cipher %#04x", st, err, f.Version, f.CipherSuite)
			}
			if tc.version == tls.VersionTLS13 {
				if f.ChainState != ChainHidden || len(f.Chain) != 0 || f.ALPN != "" {
					t.Errorf("tls 1.3: chain %v %d alpn %q", f.ChainState, len(f.Chain), f.ALPN)
				}
				return
			}
			if f.ChainState != ChainComplete || len(f.Chain) != 2 || !bytes.Equal(f.Chain[0], cert.Certificate[0]) || !f.HelloDone || f.ALPN != tc.alpn {
				t.Errorf("chain %v %d done %v alpn %q", f.ChainState, len(f.Chain), f.HelloDone, f.ALPN)
			}
		})
	}
}

// TestReset checks that a reused Flight forgets the previous connection and keeps its buffer.
func TestReset(t *testing.T) {
	a := cat(record(22, serverHello(0x0303, 0xc02f, alpnExt("h2"))), record(22, certificateMsg(leafDER, caDER)), record(22, helloDone))
	b := record(22, serverHello(0x0303, 0x1301, versionsExt(0x0304)))
	var f Flight
	if st, _ := f.Feed(a); st != Complete {
		t.Fatal(st)
	}
	f.Reset()
	if st, _ := f.Feed(b); st != Complete || f.ChainState != ChainHidden || len(f.Chain) != 0 || f.ALPN != "" || len(f.Extensions) != 1 {
		t.Fatalf("after reset: %+v", f)
	}
	if cap(f.buf) == 0 {
		t.Error("Reset dropped the buffer")
	}
}

// TestFeedAfterComplete checks that bytes after the decision are ignored without allocating.
func TestFeedAfterComplete(t *testing.T) {
	var f Flight
	f.Feed(record(22, serverHello(0x0303, 0x1301, versionsExt(0x0304))))
	seg := make([]byte, 1400)
	if n := testing.AllocsPerRun(100, func() { f.Feed(seg) }); n != 0 {
		t.Errorf("Feed after Complete: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { Parse(seg, &f) }); n != 0 {
		t.Errorf("Parse after Complete: %v allocations", n)
	}
}

// TestCipherNames holds the table to crypto/tls's names, which are IANA's, for every suite Go knows.
func TestCipherNames(t *testing.T) {
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := CipherName(s.ID); got != s.Name {
			t.Errorf("%#04x: %q, crypto/tls says %q", s.ID, got, s.Name)
		}
	}
	if got := CipherName(0xabcd); got != "0xabcd" {
		t.Errorf("unknown suite: %q", got)
	}
}

func TestVersionNames(t *testing.T) {
	for v, want := range map[uint16]string{0x0300: "ssl3", 0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2", 0x0304: "1.3", 0x7f1c: "draft-28", 0xfb1a: "0xfb1a"} {
		if got := VersionName(v); got != want {
			t.Errorf("%#04x: %q want %q", v, got, want)
		}
	}
}

func TestFacts(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want Facts
	}{
		{"tls1.2 with alpn", cat(record(22, serverHello(0x0303, 0xc02f, alpnExt("h2"))), record(22, helloDone)),
			Facts{Version: "1.2", Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ALPNSelected: "h2"}},
		{"tls1.3", record(22, serverHello(0x0303, 0x1302, versionsExt(0x0304))), Facts{Version: "1.3", Cipher: "TLS_AES_256_GCM_SHA384"}},
		{"alert alone", record(21, []byte{2, 40}), Facts{Alert: "fatal handshake_failure", AlertBy: "server"}},
		{"nothing yet", record(22, serverHello(0x0303, 0xc02f))[:20], Facts{}},
	}
	for _, tc := range tests {
		var f Flight
		f.Feed(tc.data)
		if got := f.Facts(); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
