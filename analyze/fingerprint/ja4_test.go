package fingerprint_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
)

// The format of every JA4 and JA4S the package can return.
var (
	ja4Format  = regexp.MustCompile(`^[tqd](13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
	ja4SFormat = regexp.MustCompile(`^[tqd](13|12|11|10|s3|s2|d1|d2|d3|00)\d\d[0-9A-Za-z]{2}_[0-9a-f]{4}_[0-9a-f]{12}$`)
)

// foxio is the Chrome hello of FoxIO's JA4.md "Example" and "Raw Output" sections, as its lists are printed
// there (SNI 0000 and ALPN 0010 among the extensions, h2 first).
var foxio = fingerprint.ClientFacts{
	LegacyVersion: 0x0303,
	Ciphers:       []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
	Extensions: []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
		0x000b, 0x000a, 0x0015},
	SigAlgs:  []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
	Versions: []uint16{0x0304, 0x0303},
	ALPN:     []string{"h2", "http/1.1"},
}

// Hand-computed values. b and c below are written out as FoxIO's ja4_r shows them; their hashes were taken
// with coreutils (testdata/by-hand.sh: sort, sha256sum | cut -c1-12), never with this package.
const (
	foxioB = "002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"
	foxioE = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"
	foxioS = "0403,0804,0401,0503,0805,0501,0806,0601"
)

type ja4Case struct {
	name string
	c    fingerprint.ClientFacts
	from capture // when set, the facts come from this capture's ClientHello through tlshello.Parse
	tr   fingerprint.Transport
	raw  string // ja4_r, by hand
	ja4  string // by hand from raw
}

func ja4Cases() []ja4Case {
	return []ja4Case{
		// JA4.md: "JA4 = t13d1516h2_8daaf6152771_e5627efa2ab1" and its JA4_r.
		{name: "foxio example", c: foxio, tr: fingerprint.TCP,
			raw: "t13d1516h2_" + foxioB + "_" + foxioE + "_" + foxioS,
			ja4: "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		// JA4.md: "If there are no signature algorithms ... 0005,...,ff01 = 6d807ffa2a79".
		{name: "foxio example without signature algorithms", c: with(foxio, func(c *fingerprint.ClientFacts) { c.SigAlgs = nil }),
			tr: fingerprint.TCP, raw: "t13d1516h2_" + foxioB + "_" + foxioE, ja4: "t13d1516h2_8daaf6152771_6d807ffa2a79"},
		{name: "foxio example over quic", c: foxio, tr: fingerprint.QUIC,
			raw: "q13d1516h2_" + foxioB + "_" + foxioE + "_" + foxioS, ja4: "q13d1516h2_8daaf6152771_e5627efa2ab1"},
		// GREASE everywhere (ciphers, extensions, versions, signature algorithms) changes nothing.
		{name: "foxio example greased", c: with(foxio, func(c *fingerprint.ClientFacts) {
			c.Ciphers = append([]uint16{0x0a0a}, c.Ciphers...)
			c.Extensions = append([]uint16{0x2a2a}, append(c.Extensions, 0xfafa)...)
			c.Versions = []uint16{0x7a7a, 0x0304, 0x0303}
			c.SigAlgs = append([]uint16{0xbaba}, c.SigAlgs...)
		}), tr: fingerprint.TCP, raw: "t13d1516h2_" + foxioB + "_" + foxioE + "_" + foxioS, ja4: "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		// Nothing at all: no SNI, unknown version, and the spec's 12 zeros for empty b and c.
		{name: "empty hello", tr: fingerprint.TCP, raw: "t00i000000__", ja4: "t00i000000_000000000000_000000000000"},
		// 150 ciphers (0x0096 down to 0x0001, GREASE first) and 121 extensions (SNI, 0x0176 down to 0x0100,
		// ALPN): both counts print 99. b is 0001,...,0096 and c is 0100,...,0176.
		{name: "more than 99 ciphers and extensions", c: many(), tr: fingerprint.TCP,
			raw: "t12d9999h2_" + hexRange(0x0001, 0x0096) + "_" + hexRange(0x0100, 0x0176) + "_0403",
			ja4: "t12d9999h2_2ddb91151f68_50188c593c5c"},
		// tls-allowed.pcap frame 11: curl (OpenSSL), TLS 1.3, SNI, h2 first, 31 ciphers (00ff SCSV counted), 12
		// extensions. tshark: ciphersuite 0x1302,...,0x00ff; extension.type 0,11,10,16,22,23,49,13,43,45,51,21.
		{name: "curl, tls-allowed.pcap#11", from: capture{file: "tls-allowed.pcap", frame: 11}, tr: fingerprint.TCP,
			raw: "t13d3112h2_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,1301,1302,1303,c009,c00a,c013,c014," +
				"c023,c024,c027,c028,c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,000b,000d,0015,0016,0017,002b,002d,0031,0033_" +
				"0403,0503,0603,0807,0808,0809,080a,080b,0804,0805,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602",
			ja4: "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"},
		// tls-split-pq.pcap frame 9: Go 1.26 crypto/tls, no ALPN, hello over two segments. Only the 10 values
		// of signature_algorithms (13) count, not those of signature_algorithms_cert (50).
		{name: "go, no alpn, tls-split-pq.pcap#9", from: capture{file: "tls-split-pq.pcap", frame: 9}, tr: fingerprint.TCP,
			raw: "t13d131100_1301,1302,1303,c009,c00a,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
				"0005,000a,000b,000d,0012,0017,002b,0032,0033,ff01_0804,0403,0807,0805,0806,0401,0501,0601,0503,0603",
			ja4: "t13d131100_f57a46bbacb6_ab7e3b40a677"},
		// demo.pcapng frame 32: the same Go client offering more groups (4588-29-23-24-25): JA4 reads no
		// groups, so the fingerprint is tls-split-pq's; JA3 differs (TestJA3).
		{name: "go, other groups, demo.pcapng#32", from: capture{file: "demo.pcapng", frame: 32}, tr: fingerprint.TCP,
			raw: "t13d131100_1301,1302,1303,c009,c00a,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
				"0005,000a,000b,000d,0012,0017,002b,0032,0033,ff01_0804,0403,0807,0805,0806,0401,0501,0601,0503,0603",
			ja4: "t13d131100_f57a46bbacb6_ab7e3b40a677"},
		// arkime-tls-split-client-hello.pcap frame 5: Chrome with GREASE (cipher 1a1a, extensions 1a1a and
		// baba, group 3a3a, version 9a9a) and GREASE ECH (fe0d): 16 of 18 extensions count. Chrome's well-known
		// JA4 t13d1516h2_8daaf6152771_02713d6af862.
		{name: "chrome, grease, arkime-tls-split-client-hello.pcap#5", from: capture{file: "arkime-tls-split-client-hello.pcap", frame: 5, shared: true},
			tr:  fingerprint.TCP,
			raw: "t13d1516h2_" + foxioB + "_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,4469,fe0d,ff01_" + foxioS,
			ja4: "t13d1516h2_8daaf6152771_02713d6af862"},
		// ndpi-tls-huge-clienthello-nosni.pcapng frame 27: an 11 KB hello (padding) in 12 segments, no SNI.
		{name: "no sni, ndpi-tls-huge-clienthello-nosni.pcapng#27", from: capture{file: "ndpi-tls-huge-clienthello-nosni.pcapng", frame: 27, shared: true},
			tr: fingerprint.TCP,
			raw: "t13i1811h2_000a,002f,0035,003c,009c,1301,1302,1303,c009,c00a,c012,c013,c023,c027,c02b,c02c,c030,cca9_" +
				"000a,000b,000d,0015,0017,0023,002b,002d,0033,ff01_0603,0201,0806,0401,0501,0403,0601,0805,0804,0503",
			ja4: "t13i1811h2_f71e3e15ae0d_5c3a8cf9b2bc"},
		// zeek-tls12-google-cert-repeat.pcap frame 4: a TLS 1.2-only client (no supported_versions: the legacy
		// version 0x0303 counts), no SNI, no ALPN.
		{name: "tls 1.2 only, zeek-tls12-google-cert-repeat.pcap#4", from: capture{file: "zeek-tls12-google-cert-repeat.pcap", frame: 4, shared: true},
			tr: fingerprint.TCP,
			raw: "t12i280600_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,c009,c00a,c013,c014,c023,c024,c027,c028," +
				"c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,000b,000d,0016,0017,0023_" +
				"0403,0503,0603,0807,0808,0809,080a,080b,0804,0805,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602",
			ja4: "t12i280600_d943125447b4_e7e480e5a997"},
	}
}

func TestJA4(t *testing.T) {
	for _, tc := range ja4Cases() {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if tc.from.file != "" {
				c = clientFacts(t, tc.from)
			}
			if got := fingerprint.JA4Raw(c, tc.tr); got != tc.raw {
				t.Errorf("JA4Raw:\ngot  %s\nwant %s", got, tc.raw)
			}
			got := fingerprint.JA4(c, tc.tr)
			if got != tc.ja4 {
				t.Errorf("JA4 = %s, want %s", got, tc.ja4)
			}
			if !ja4Format.MatchString(got) {
				t.Errorf("JA4 %q does not match %v", got, ja4Format)
			}
		})
	}
}

// TestJA4PartA checks the first part alone where the rules have cases: versions, SNI, and every ALPN example
// of JA4.md's "ALPN Extension Value" section.
func TestJA4PartA(t *testing.T) {
	base := fingerprint.ClientFacts{LegacyVersion: 0x0303, Ciphers: []uint16{0x1301}, Extensions: []uint16{0x0010}}
	tests := []struct {
		name string
		edit func(*fingerprint.ClientFacts)
		tr   fingerprint.Transport
		want string
	}{
		{"tls 1.2 legacy", nil, fingerprint.TCP, "t12i0101"},
		{"dtls", nil, fingerprint.DTLS, "d12i0101"},
		{"sni extension present", func(c *fingerprint.ClientFacts) { c.Extensions = []uint16{0, 16} }, fingerprint.TCP, "t12d0102"},
		{"highest supported version wins", func(c *fingerprint.ClientFacts) { c.Versions = []uint16{0x0302, 0x0304, 0x0303} }, fingerprint.TCP, "t13i0101"},
		{"grease-only supported_versions: legacy", func(c *fingerprint.ClientFacts) { c.Versions = []uint16{0x0a0a} }, fingerprint.TCP, "t12i0101"},
		{"draft version unknown", func(c *fingerprint.ClientFacts) { c.Versions = []uint16{0x7f12} }, fingerprint.TCP, "t00i0101"},
		{"ssl 3.0", func(c *fingerprint.ClientFacts) { c.LegacyVersion = 0x0300 }, fingerprint.TCP, "ts3i0101"},
		{"tls 1.0", func(c *fingerprint.ClientFacts) { c.LegacyVersion = 0x0301 }, fingerprint.TCP, "t10i0101"},
		{"tls 1.1", func(c *fingerprint.ClientFacts) { c.LegacyVersion = 0x0302 }, fingerprint.TCP, "t11i0101"},
		{"dtls 1.2", func(c *fingerprint.ClientFacts) { c.LegacyVersion = 0xfefd }, fingerprint.DTLS, "dd2i0101"},
		{"dtls 1.3 in supported_versions", func(c *fingerprint.ClientFacts) { c.Versions = []uint16{0xfefc} }, fingerprint.DTLS, "dd3i0101"},
		{"grease cipher not counted", func(c *fingerprint.ClientFacts) { c.Ciphers = []uint16{0x0a0a, 0x1301, 0x00ff} }, fingerprint.TCP, "t12i0201"},
	}
	for _, tc := range tests {
		c := base
		c.Versions = nil
		if tc.edit != nil {
			tc.edit(&c)
		}
		if got := fingerprint.JA4(c, tc.tr); !strings.HasPrefix(got, tc.want+"00_") {
			t.Errorf("%s: JA4 = %s, want %s00_...", tc.name, got, tc.want)
		}
	}
	alpn := []struct {
		first string
		want  string
	}{
		{"h2", "h2"}, {"http/1.1", "h1"}, {"h3-29", "h9"}, {"a", "aa"}, {"", "00"},
		{"\xab", "ab"}, {"\xab\xcd", "ad"}, {"0\xab", "3b"}, {"01\xab\xcd", "3d"}, {"0\xab\xcd1", "01"},
		{"\x00", "00"}, {"/x", "28"}, {"x/", "7f"},
	}
	for _, tc := range alpn {
		c := base
		c.ALPN = []string{tc.first, "h2"}
		got := fingerprint.JA4(c, fingerprint.TCP)
		if got[8:10] != tc.want {
			t.Errorf("ALPN %q: JA4 = %s, want ALPN characters %q", tc.first, got, tc.want)
		}
	}
	if got := fingerprint.JA4(fingerprint.ClientFacts{ALPN: []string{}, Extensions: []uint16{16}}, fingerprint.TCP); got[8:10] != "00" {
		t.Errorf("empty ALPN list: JA4 = %s", got)
	}
}

func TestJA4UnknownTransport(t *testing.T) {
	for _, tr := range []fingerprint.Transport{0, 'T', 'u'} {
		if got := fingerprint.JA4(foxio, tr); got != "" {
			t.Errorf("transport %q: JA4 = %q, want none", tr, got)
		}
		if got := fingerprint.JA4S(fingerprint.ServerFacts{}, tr); got != "" {
			t.Errorf("transport %q: JA4S = %q, want none", tr, got)
		}
	}
}

func with(c fingerprint.ClientFacts, edit func(*fingerprint.ClientFacts)) fingerprint.ClientFacts {
	edit(&c)
	return c
}

// many builds the hello of "more than 99 ciphers and extensions".
func many() fingerprint.ClientFacts {
	c := fingerprint.ClientFacts{LegacyVersion: 0x0303, Ciphers: []uint16{0x0a0a}, Extensions: []uint16{0x0000},
		SigAlgs: []uint16{0x0403}, ALPN: []string{"h2"}}
	for v := uint16(0x0096); v >= 0x0001; v-- {
		c.Ciphers = append(c.Ciphers, v)
	}
	for v := uint16(0x0176); v >= 0x0100; v-- {
		c.Extensions = append(c.Extensions, v)
	}
	c.Extensions = append(c.Extensions, 0x0010)
	return c
}

// hexRange writes lo..hi as 4-digit hex joined by ','.
func hexRange(lo, hi uint16) string {
	var b strings.Builder
	for v := lo; v <= hi; v++ {
		if v > lo {
			b.WriteByte(',')
		}
		const digits = "0123456789abcdef"
		b.Write([]byte{digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
	}
	return b.String()
}
