package fingerprint_test

import (
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
)

func TestJA4S(t *testing.T) {
	tests := []struct {
		name string
		s    fingerprint.ServerFacts
		from capture
		tr   fingerprint.Transport
		raw  string // ja4s_r, by hand
		ja4s string // hashes by sha256sum | cut -c1-12
	}{
		// JA4S.md: "JA4S = t120400_c030_4e8089b08790", "JA4S_r = t120400_c030_0005,0017,ff01,0000".
		{name: "foxio example", s: fingerprint.ServerFacts{LegacyVersion: 0x0303, Cipher: 0xc030, Extensions: []uint16{0x0005, 0x0017, 0xff01, 0x0000}},
			tr: fingerprint.TCP, raw: "t120400_c030_0005,0017,ff01,0000", ja4s: "t120400_c030_4e8089b08790"},
		// tls-allowed.pcap frame 13: TLS 1.3 from supported_versions, TLS_AES_128_GCM_SHA256, extensions 43,51.
		{name: "tls 1.3, tls-allowed.pcap#13", from: capture{file: "tls-allowed.pcap", frame: 13}, tr: fingerprint.TCP,
			raw: "t130200_1301_002b,0033", ja4s: "t130200_1301_a56c5b993250"},
		// zeek-tls12-heise.pcap frame 6: TLS 1.2 (no supported_versions), c030, http/1.1 selected,
		// extensions 65281,0,11,35,16,23 in that order.
		{name: "tls 1.2 with alpn, zeek-tls12-heise.pcap#6", from: capture{file: "zeek-tls12-heise.pcap", frame: 6, shared: true},
			tr: fingerprint.TCP, raw: "t1206h1_c030_ff01,0000,000b,0023,0010,0017", ja4s: "t1206h1_c030_17136cd5846b"},
		{name: "quic h3, no extensions", s: fingerprint.ServerFacts{LegacyVersion: 0x0303, SelectedVersion: 0x0304, Cipher: 0x1302, ALPN: "h3"},
			tr: fingerprint.QUIC, raw: "q1300h3_1302_", ja4s: "q1300h3_1302_000000000000"},
		{name: "non-alphanumeric alpn, grease extension not counted", s: fingerprint.ServerFacts{LegacyVersion: 0x0303, Cipher: 0x009c,
			Extensions: []uint16{0x0a0a, 0x0010}, ALPN: "\x01x"}, tr: fingerprint.TCP /* hex 0178 */, raw: "t120108_009c_0010", ja4s: "t120108_009c_0b08e3dcc50f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			if tc.from.file != "" {
				s = serverFacts(t, tc.from)
			}
			if got := fingerprint.JA4SRaw(s, tc.tr); got != tc.raw {
				t.Errorf("JA4SRaw = %s, want %s", got, tc.raw)
			}
			got := fingerprint.JA4S(s, tc.tr)
			if got != tc.ja4s {
				t.Errorf("JA4S = %s, want %s", got, tc.ja4s)
			}
			if !ja4SFormat.MatchString(got) {
				t.Errorf("JA4S %q does not match %v", got, ja4SFormat)
			}
		})
	}
}
