package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLabZone keeps the lab's committed zone loadable: record.sh would fail only once the lab is up.
func TestLabZone(t *testing.T) {
	f, err := os.Open("../zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := parseZone(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := z.lookup("c.microsoft.com", 1); len(got.records) != 3 {
		t.Fatalf("c.microsoft.com chain has %d records, want CNAME, CNAME, A", len(got.records))
	}
}

// startServer serves TLS or HTTP on a loopback port with the real handler.
func startServer(t *testing.T, useTLS bool, rst []string) string {
	t.Helper()
	s, err := newServer(serveConfig{tls: listFlag{"x"}, rstAfter: rst})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback TCP: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go s.acceptLoop(ln, useTLS)
	return ln.Addr().String()
}

func TestTLSClientServer(t *testing.T) {
	addr := startServer(t, true, nil)
	tests := []struct {
		name string
		cfg  clientConfig
		want string
	}{
		{"get", clientConfig{sni: "enrollment.manage.microsoft.com", get: true}, "response 44 bytes"},
		{"mlkem", clientConfig{sni: "a.example", mlkem: true}, "curve=X25519MLKEM768"},
		{"no sni", clientConfig{noSNI: true}, `sni=""`},
		{"abort", clientConfig{sni: "a.example", abort: true}, "TLS 1.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.connect, tt.cfg.timeout = addr, 5*time.Second
			var out bytes.Buffer
			if err := dialTLS(tt.cfg, &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Fatalf("output %q lacks %q", out.String(), tt.want)
			}
		})
	}
}

func TestHTTPResetAfterResponse(t *testing.T) {
	tests := []struct {
		name    string
		rst     []string
		wantErr bool
	}{
		{"close", nil, false},
		{"reset", []string{"127.0.0.1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", startServer(t, false, tt.rst))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: go.microsoft.com\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4096)
			n, _ := c.Read(buf)
			if !bytes.Contains(buf[:n], []byte("hello go.microsoft.com")) {
				t.Fatalf("response %q", buf[:n])
			}
			if tt.wantErr {
				// The RST arrives after the response: the next read fails instead of blocking.
				_, err := c.Read(buf)
				if err == nil || !strings.Contains(err.Error(), "reset") {
					t.Fatalf("read after response: %v, want connection reset", err)
				}
			}
		})
	}
}

// pcapOf builds a little-endian classic pcap with the given frames.
func pcapOf(frames ...[]byte) []byte {
	var b []byte
	le := binary.LittleEndian
	b = le.AppendUint32(b, pcapMagicMicro)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, linkEthernet)
	for _, f := range frames {
		b = append(b, make([]byte, 8)...)
		b = le.AppendUint32(b, uint32(len(f)))
		b = le.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

func TestTagPcap(t *testing.T) {
	frame := append(bytes.Repeat([]byte{0xaa}, 12), 0x08, 0x00, 0x45)
	tests := []struct {
		name string
		ids  string
		want []byte
	}{
		{"dot1q", "100", []byte{0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45}},
		{"qinq", "200,100", []byte{0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, err := parseVLANs(tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := tagPcap(bytes.NewReader(pcapOf(frame)), &out, tags); err != nil {
				t.Fatal(err)
			}
			b := out.Bytes()
			if got := binary.LittleEndian.Uint32(b[24+8:]); got != uint32(len(frame)+len(tt.want)-3) {
				t.Fatalf("caplen %d", got)
			}
			if rec := b[24+16:]; !bytes.Equal(rec[12:], tt.want) {
				t.Fatalf("frame after MACs = %x, want %x", rec[12:], tt.want)
			}
		})
	}
	for _, bad := range []string{"0", "4095", "1,2,3", "x", ""} {
		if _, err := parseVLANs(bad); err == nil {
			t.Errorf("parseVLANs(%q) accepted", bad)
		}
	}
}

func FuzzTagPcap(f *testing.F) {
	f.Add(pcapOf(append(bytes.Repeat([]byte{1}, 12), 8, 0, 0x45, 0)))
	f.Add(pcapOf([]byte{1, 2}))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		_ = tagPcap(bytes.NewReader(in), &out, []uint16{100})
	})
}
