package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

const probeTableYAML = `name: t
rules:
  - pattern: "*.manage.microsoft.com"
    ports: "80,443"
    probe: ["enrollment.manage.microsoft.com"]
  - pattern: "*.dm.microsoft.com"
    ports: "443"
  - pattern: "time.windows.com"
    ports: "udp/123"
  - cidr: "198.18.9.0/24"
    ports: "443"
`

func TestProbeDryRun(t *testing.T) {
	dir := t.TempDir()
	table := write(t, dir, "t.yaml", []byte(probeTableYAML))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"direct", []string{"--proxy", "none"}, []string{
			"enrollment.manage.microsoft.com tcp/80 http-head direct  rows " + table + ":1",
			"enrollment.manage.microsoft.com tcp/443 tls-handshake direct  rows " + table + ":1",
			"time.windows.com udp/123 ntp direct  rows " + table + ":3",
			"not probeable " + table + ":2 *.dm.microsoft.com: wildcard pattern without a probe list",
			"not probeable " + table + ":4 198.18.9.0/24: address range",
			"3 probes, 2 rows or ports not probeable; nothing was contacted (--dry-run)",
		}},
		{"proxy", []string{"--proxy", "http://198.18.0.1:3128"}, []string{
			"enrollment.manage.microsoft.com tcp/80 http-head via proxy http://198.18.0.1:3128",
			"enrollment.manage.microsoft.com tcp/443 tls-handshake via proxy http://198.18.0.1:3128",
			"time.windows.com udp/123 ntp direct", // NTP never goes through an HTTP proxy
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"probe", "--dry-run", "-r", table}, tt.args...)
			if code := run(args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

func TestProbeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	table := write(t, dir, "t.yaml", []byte(probeTableYAML))
	bad := write(t, dir, "bad.yaml", []byte("rules:\n  - pattern: \"*.a.com\"\n    ports: \"443\"\n    probe: [\"b.com\"]\n"))
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--concurrency", "0"}, "--concurrency: 0 is not between 1 and 256"},
		{[]string{"--timeout", "1ms"}, "--timeout: 1ms is not between 100ms and 5m"},
		{[]string{"--format", "xml"}, "--format: \"xml\" is not text, jsonl, json"},
		{[]string{"--dns", "resolver.example"}, "--dns: \"resolver.example\" is not an address or address:port"},
		{[]string{"--proxy", "socks5://p:1080"}, "proxy scheme \"socks5\" not supported"},
		{[]string{"--roots", filepath.Join(dir, "nope.pem")}, "--roots: open"},
		{[]string{"--roots", table}, "no PEM certificate"},
		{[]string{"-r", bad}, "probe: host \"b.com\" does not match the row's pattern (*.a.com)"},
		{[]string{"extra"}, "unexpected argument \"extra\""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		args := append([]string{"probe", "--dry-run", "-r", table}, tt.args...)
		code := run(args, nil, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.stderr) || strings.Count(strings.TrimSpace(stderr.String()), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, code, stderr.String(), tt.stderr)
		}
	}
}

// fakeDNS answers every A question with 127.0.0.1 and every other with no record, on a loopback port.
func fakeDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dnsmessage.Message
			if m.Unpack(buf[:n]) != nil || len(m.Questions) != 1 {
				continue
			}
			q := m.Questions[0]
			m.Header.Response = true
			if q.Type == dnsmessage.TypeA {
				m.Answers = []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: q.Name, Type: q.Type,
					Class: q.Class, TTL: 5}, Body: &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}}}
			}
			if out, err := m.Pack(); err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// TestProbeLoopback runs a real probe against loopback: a port that accepts, one that refuses. Run by
// root it also captures on lo; either way every probe's socket result must be right.
func TestProbeLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	openPort := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	table := write(t, dir, "t.yaml", []byte("name: loop\nrules:\n"+
		"  - pattern: \"open.probe.test\"\n    ports: \""+strconv.Itoa(openPort)+"\"\n"+
		"  - pattern: \"closed.probe.test\"\n    ports: \""+strconv.Itoa(closedPort)+"\"\n"))
	var stdout, stderr bytes.Buffer
	code := run([]string{"probe", "-r", table, "--dns", fakeDNS(t), "--proxy", "none", "--format", "jsonl", "--timeout", "2s"},
		nil, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1 (one port refuses)\n%s", code, stderr.String())
	}
	want := map[string]string{"open.probe.test": "ok allowed", "closed.probe.test": "refused reset"}
	types := []string{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var line struct {
			Type    string `json:"type"`
			Name    string `json:"name"`
			Verdict string `json:"verdict"`
			Socket  struct {
				Outcome string `json:"outcome"`
			} `json:"socket"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		types = append(types, line.Type)
		if line.Type == "probe" {
			if got := line.Socket.Outcome + " " + line.Verdict; got != want[line.Name] {
				t.Errorf("%s: %s, want %s", line.Name, got, want[line.Name])
			}
			delete(want, line.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("no probe of %v", want)
	}
	if len(types) < 3 || types[0] != "probe" || types[len(types)-1] != "summary" {
		t.Errorf("line types %v: want the probes first and the summary last", types)
	}
}
