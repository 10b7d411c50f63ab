package fingerprint_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze/fingerprint"
	"github.com/intunecap/intunecap/internal/pcaptest"
)

func TestJA3(t *testing.T) {
	tests := []struct {
		name string
		c    fingerprint.ClientFacts
		from capture
		full string // by hand, or tshark 4.0.17's tls.handshake.ja3_full for the captures
		md5  string // published, md5sum of full, or tshark's tls.handshake.ja3
	}{
		// The JA3 README's example: "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0".
		{name: "salesforce example", c: fingerprint.ClientFacts{LegacyVersion: 769,
			Ciphers:    []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
			Extensions: []uint16{0, 10, 11}, Groups: []uint16{23, 24, 25}, PointFormats: []uint8{0}},
			full: "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0", md5: "ada70206e40642a3e4461f35503241d5"},
		// A hello without extensions leaves the last three fields empty.
		{name: "salesforce vector with empty fields", c: fingerprint.ClientFacts{LegacyVersion: 769,
			Ciphers: []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99}},
			full: "769,4-5-10-9-100-98-3-6-19-18-99,,,", md5: "de350869b8c85de67a350c8d186f11e6"},
		{name: "grease removed from every list", c: fingerprint.ClientFacts{LegacyVersion: 771, Ciphers: []uint16{0x0a0a, 4865},
			Extensions: []uint16{0x1a1a, 0, 0xfafa}, Groups: []uint16{0x2a2a, 29}, PointFormats: []uint8{0}},
			full: "771,4865,0,29,0", md5: "97ade20b92201c66f1f7b566dab9704f"},
		{name: "curl, tls-allowed.pcap#11", from: capture{file: "tls-allowed.pcap", frame: 11},
			full: "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-103-49162-49172-57-" +
				"49161-49171-51-157-156-61-60-53-47-255,0-11-10-16-22-23-49-13-43-45-51-21,29-23-30-25-24-256-257-258-259-260,0-1-2",
			md5: "0149f47eabf9a20d0893e2a44e5a6323"},
		{name: "go, tls-split-pq.pcap#9", from: capture{file: "tls-split-pq.pcap", frame: 9},
			full: "771,49195-49199-49196-49200-52393-52392-49161-49171-49162-49172-4865-4866-4867,0-11-65281-23-18-5-10-13-50-43-51,4588-29,0",
			md5:  "adbd0fa16f84d5933b3661cb2275e4ee"},
		{name: "go, other groups, demo.pcapng#32", from: capture{file: "demo.pcapng", frame: 32},
			full: "771,49195-49199-49196-49200-52393-52392-49161-49171-49162-49172-4865-4866-4867,0-11-65281-23-18-5-10-13-50-43-51,4588-29-23-24-25,0",
			md5:  "20b279993ae2e137e62b9647c6d768fb"},
		{name: "chrome, arkime-tls-split-client-hello.pcap#5", from: capture{file: "arkime-tls-split-client-hello.pcap", frame: 5, shared: true},
			full: "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,13-18-45-27-65037-43-51-0-11-35-5-23-16-10-" +
				"65281-17513,4588-29-23-24,0",
			md5: "35708a08e7be9f7aa5bce7f2d5c1cecb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if tc.from.file != "" {
				c = clientFacts(t, tc.from)
			}
			if got := fingerprint.JA3Full(c); got != tc.full {
				t.Errorf("JA3Full:\ngot  %s\nwant %s", got, tc.full)
			}
			if got := fingerprint.JA3(c); got != tc.md5 {
				t.Errorf("JA3 = %s, want %s", got, tc.md5)
			}
		})
	}
}

func TestJA3S(t *testing.T) {
	tests := []struct {
		name string
		s    fingerprint.ServerFacts
		from capture
		full string
		md5  string
	}{
		// The JA3 README's server example: "769,47,65281-0-11-35-5-16 => 836ce314215654b5b1f85f97c73e506f".
		{name: "salesforce example", s: fingerprint.ServerFacts{LegacyVersion: 769, Cipher: 47, Extensions: []uint16{65281, 0, 11, 35, 5, 16}},
			full: "769,47,65281-0-11-35-5-16", md5: "836ce314215654b5b1f85f97c73e506f"},
		// tshark: tls.handshake.ja3s_full "771,4865,43-51", ja3s f4febc55ea12b31ae17cfb7e614afda8.
		{name: "tls 1.3, tls-allowed.pcap#13", from: capture{file: "tls-allowed.pcap", frame: 13},
			full: "771,4865,43-51", md5: "f4febc55ea12b31ae17cfb7e614afda8"},
		// tshark: "771,49200,65281-0-11-35-16-23", d154fcfa5bb4f0748e1dd1992c681104.
		{name: "tls 1.2, zeek-tls12-heise.pcap#6", from: capture{file: "zeek-tls12-heise.pcap", frame: 6, shared: true},
			full: "771,49200,65281-0-11-35-16-23", md5: "d154fcfa5bb4f0748e1dd1992c681104"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			if tc.from.file != "" {
				s = serverFacts(t, tc.from)
			}
			if got := fingerprint.JA3SFull(s); got != tc.full {
				t.Errorf("JA3SFull = %s, want %s", got, tc.full)
			}
			if got := fingerprint.JA3S(s); got != tc.md5 {
				t.Errorf("JA3S = %s, want %s", got, tc.md5)
			}
		})
	}
}

// helloKnownDifferences lists the hellos tshark fingerprints and this test cannot reach, per capture and frame.
var helloKnownDifferences = map[string]string{
	"ndpi-reddit-ipv6-rst.pcap#1000":             "second ClientHello after a HelloRetryRequest; tlshello reads the first",
	"ndpi-sll-pcapng-shadowsocks-ipv6.pcapng#18": "ClientHello after a SOCKS5 handshake; tlshello sees the stream start",
}

// TestSharedCapturesJA3 compares JA3 and JA3S with tshark 4.0.17's own (testdata/tshark-ja3.tsv, made by
// testdata/tshark-ja3.sh) for every TLS-over-TCP hello of the shared captures: every ClientHello tshark
// fingerprints must get the same string and hash here, and no other; every ServerHello both find (this test's
// reader takes the first of each server stream, alone in its record) likewise.
func TestSharedCapturesJA3(t *testing.T) {
	dir := sharedDir(t)
	want := map[string]map[string]string{} // file -> "frame type" -> full + " " + hash
	for _, row := range pcaptest.TSVRows(t, filepath.Join("testdata", "tshark-ja3.tsv")) {
		if strings.HasPrefix(row["file"], "#") {
			continue
		}
		if want[row["file"]] == nil {
			want[row["file"]] = map[string]string{}
		}
		want[row["file"]][row["frame"]+" "+row["type"]] = row["full"] + " " + row["hash"]
	}
	clients, servers, unseen := 0, 0, 0
	for _, path := range pcaptest.Captures(t, dir) {
		base := filepath.Base(path)
		got := ja3sOf(t, path)
		for key, w := range want[base] {
			frame, typ, _ := strings.Cut(key, " ")
			g, ok := got[key]
			switch {
			case ok && g != w:
				t.Errorf("%s frame %s %s: ours %s, tshark %s", base, frame, typ, g, w)
			case !ok && typ == "client" && helloKnownDifferences[base+"#"+frame] == "":
				t.Errorf("%s frame %s: tshark has a ClientHello, we have none", base, frame)
			case ok && typ == "client":
				clients++
			case ok:
				servers++
			}
		}
		for key := range got {
			if _, ok := want[base][key]; ok {
				continue
			}
			if strings.HasSuffix(key, " client") {
				t.Errorf("%s %s: we have a ClientHello tshark does not fingerprint", base, key)
			} else {
				unseen++ // tshark 4.0 loses the ServerHellos of streams with out-of-order server segments
			}
		}
	}
	t.Logf("%d ClientHellos and %d ServerHellos agree with tshark; %d ServerHellos tshark did not reassemble", clients, servers, unseen)
	if clients < 260 || servers < 200 {
		t.Errorf("only %d ClientHellos and %d ServerHellos compared", clients, servers)
	}
}

// ja3sOf fingerprints the hello at the start of every TCP stream of a capture, keyed by "frame client" or
// "frame server" (the frame of the hello's last byte, as tshark reports it).
func ja3sOf(t *testing.T, path string) map[string]string {
	got := map[string]string{}
	for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, path)) {
		skip := httpHead(st.Data)
		data := st.Data[skip:]
		if h, n, ok := helloAt(data); ok {
			c := h.Facts()
			got[fmt.Sprintf("%d client", st.Frames[skip+n-1])] = fingerprint.JA3Full(c) + " " + fingerprint.JA3(c)
		} else if s, n, err := serverHello(data); err == nil {
			got[fmt.Sprintf("%d server", st.Frames[skip+n-1])] = fingerprint.JA3SFull(s) + " " + fingerprint.JA3S(s)
		}
	}
	return got
}

// httpHead skips the CONNECT request or its 200 answer in front of a tunnelled TLS stream.
func httpHead(data []byte) int {
	if !bytes.HasPrefix(data, []byte("CONNECT ")) && !bytes.HasPrefix(data, []byte("HTTP/1.")) {
		return 0
	}
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return len(data)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
