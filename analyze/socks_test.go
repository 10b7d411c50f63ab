package analyze_test

import (
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// talk is one TCP connection in an engine test, keeping both sides' sequence numbers.
type talk struct {
	w            *wire
	sport, dport uint16
	cseq, sseq   uint32
}

func (w *wire) open(sport, dport uint16) *talk {
	w.handshake(sport, dport)
	return &talk{w: w, sport: sport, dport: dport, cseq: 1001, sseq: 5001}
}

func (k *talk) client(b []byte) {
	k.w.tcp(true, k.sport, k.dport, ack|psh, k.cseq, k.sseq, b)
	k.cseq += uint32(len(b))
}

func (k *talk) server(b []byte) {
	k.w.tcp(false, k.dport, k.sport, ack|psh, k.sseq, k.cseq, b)
	k.sseq += uint32(len(b))
}

func (k *talk) serverReset() { k.w.tcp(false, k.dport, k.sport, rst, k.sseq, 0, nil) }

func (k *talk) close() {
	k.w.tcp(true, k.sport, k.dport, fin|ack, k.cseq, k.sseq, nil)
	k.w.tcp(false, k.dport, k.sport, fin|ack, k.sseq, k.cseq+1, nil)
	k.w.tcp(true, k.sport, k.dport, ack, k.cseq+1, k.sseq+1, nil)
}

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// socks5Domain is a SOCKS5 CONNECT request for name:port.
func socks5Domain(name string, port uint16) []byte {
	return append(append([]byte{5, 1, 0, 3, byte(len(name))}, name...), byte(port>>8), byte(port))
}

// socks4a is a SOCKS4a CONNECT request for name:port with user id "bob".
func socks4a(name string, port uint16) []byte {
	return append(append([]byte{4, 1, byte(port >> 8), byte(port), 0, 0, 0, 1, 'b', 'o', 'b', 0}, name...), 0)
}

// The SOCKS bytes are curl's and dante's (testdata/pcaps/socks.pcap); see analyze/socksmsg's tests.
const (
	curlGreeting = "05020001"
	danteMethod  = "0500"
	danteReply   = "05000001c6120001b442"
)

func TestEngineSOCKS(t *testing.T) {
	const name = "enrollment.manage.microsoft.com"
	hello := clientHello(t, name)
	target := netip.MustParseAddr("198.18.1.20")
	tests := []struct {
		name                       string
		run                        func(w *wire)
		transport                  result.Transport
		state, verdict, stage, src string
		recName                    string
		port                       uint16
		socks                      string // the record's socks object as JSON; "" for none
		reason                     string // a part of the reason
	}{
		{"SOCKS5 host name, then the tunnel's hello", func(w *wire) {
			k := w.open(40100, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(socks5Domain(name, 443))
			k.server(hexBytes(t, danteReply))
			k.client(hello)
			k.server([]byte("\x16\x03\x03\x00\x02ab"))
			k.close()
		}, "socks", "established", "allowed", "", "sni", name, 443, `{"version":"5","command":"connect","reply":0,"auth":"none"}`, ""},
		{"SOCKS5 host name, plain HTTP in the tunnel", func(w *wire) {
			k := w.open(40101, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(socks5Domain("go.microsoft.com", 80))
			k.server(hexBytes(t, danteReply))
			k.client([]byte("GET / HTTP/1.1\r\nHost: go.microsoft.com\r\n\r\n"))
			k.server([]byte("HTTP/1.1 200 OK\r\n\r\n"))
			k.close()
		}, "socks", "established", "allowed", "", "socks", "go.microsoft.com", 80, `{"version":"5","command":"connect","reply":0,"auth":"none"}`, ""},
		{"SOCKS5 with username and password", func(w *wire) {
			k := w.open(40102, 1080)
			k.client(hexBytes(t, "05020002"))
			k.server(hexBytes(t, "0502"))
			k.client(append([]byte{1, 6}, "intune\x07s3cret!"...))
			k.server(hexBytes(t, "0100"))
			k.client(socks5Domain(name, 443))
			k.server(hexBytes(t, danteReply))
			k.close()
		}, "socks", "established", "allowed", "", "socks", name, 443, `{"version":"5","command":"connect","reply":0,"auth":"username"}`, ""},
		{"SOCKS5 credentials rejected", func(w *wire) {
			k := w.open(40103, 1080)
			k.client(hexBytes(t, "05020002"))
			k.server(hexBytes(t, "0502"))
			k.client(append([]byte{1, 6}, "intune\x05wrong"...))
			k.server(hexBytes(t, "0101"))
			k.close()
		}, "socks", "established", "other", "", "", "", 1080, `{"version":"5","auth":"username"}`, ""},
		{"SOCKS5 IPv4 target named by the client's DNS answer", func(w *wire) {
			w.dns(1, "go.microsoft.com", dnsmessage.TypeA, 0, "", target)
			k := w.open(40104, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(hexBytes(t, "05010001c61201140050"))
			k.server(hexBytes(t, danteReply))
			k.client([]byte("GET / HTTP/1.1\r\nHost: go.microsoft.com\r\n\r\n"))
			k.close()
		}, "socks", "established", "allowed", "", "dns", "go.microsoft.com", 80, `{"version":"5","command":"connect","reply":0,"auth":"none"}`, ""},
		{"SOCKS5 IPv4 target nobody named", func(w *wire) {
			k := w.open(40105, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(hexBytes(t, "05010001c61201140050"))
			k.server(hexBytes(t, danteReply))
			k.close()
		}, "socks", "established", "other", "", "", "", 80, `{"version":"5","command":"connect","reply":0,"auth":"none"}`, ""},
		{"SOCKS4 then the tunnel's hello", func(w *wire) {
			k := w.open(40106, 1080)
			k.client(hexBytes(t, "040101bbc612010a00"))
			k.server(hexBytes(t, "005ae448c6120001"))
			k.client(hello)
			k.server([]byte("\x16\x03\x03\x00\x02ab"))
			k.close()
		}, "socks", "established", "allowed", "", "sni", name, 443, `{"version":"4","command":"connect","reply":90}`, ""},
		{"SOCKS4a host name", func(w *wire) {
			k := w.open(40107, 1080)
			k.client(socks4a(name, 443))
			k.server(hexBytes(t, "005a000000000000"))
			k.close()
		}, "socks", "established", "allowed", "", "socks", name, 443, `{"version":"4a","command":"connect","reply":90}`, ""},
		{"SOCKS5 refused by the ruleset", func(w *wire) {
			k := w.open(40108, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			req := socks5Domain("wustat.microsoft.com", 443)
			k.client(req)
			k.server(append([]byte{5, 2}, req[2:]...))
			k.close()
		}, "socks", "established", "blocked", "after-socks", "socks", "wustat.microsoft.com", 443,
			`{"version":"5","command":"connect","reply":2,"auth":"none"}`, "reply 2: connection not allowed by ruleset"},
		{"SOCKS4a rejected", func(w *wire) {
			k := w.open(40109, 1080)
			k.client(socks4a(name, 443))
			k.server(hexBytes(t, "005b000000000000"))
			k.close()
		}, "socks", "established", "blocked", "after-socks", "socks", name, 443,
			`{"version":"4a","command":"connect","reply":91}`, "reply 91: request rejected or failed"},
		{"no acceptable method", func(w *wire) {
			k := w.open(40110, 1080)
			k.client(hexBytes(t, "050100"))
			k.server(hexBytes(t, "05ff"))
			k.close()
		}, "socks", "established", "other", "", "", "", 1080, `{"version":"5","auth":"no-acceptable"}`, ""},
		{"reset after the tunnel's hello", func(w *wire) {
			k := w.open(40111, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(socks5Domain(name, 443))
			k.server(hexBytes(t, danteReply))
			k.client(hello)
			k.serverReset()
		}, "socks", "reset", "reset", "after-client-hello", "sni", name, 443, `{"version":"5","command":"connect","reply":0,"auth":"none"}`, ""},
		{"reset before the proxy's reply", func(w *wire) {
			k := w.open(40112, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(socks5Domain(name, 443))
			k.serverReset()
		}, "socks", "reset", "reset", "after-socks", "socks", name, 443, `{"version":"5","command":"connect","auth":"none"}`, ""},
		{"BIND names nothing", func(w *wire) {
			k := w.open(40113, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(hexBytes(t, "05020001c61201140050"))
			k.server(hexBytes(t, danteReply))
			k.close()
		}, "socks", "established", "other", "", "", "", 1080, `{"version":"5","command":"bind","reply":0,"auth":"none"}`, ""},
		{"host name that is not one", func(w *wire) {
			k := w.open(40114, 1080)
			k.client(hexBytes(t, curlGreeting))
			k.server(hexBytes(t, danteMethod))
			k.client(socks5Domain("x\n.manage.microsoft.com", 443))
			k.server(hexBytes(t, danteReply))
			k.close()
		}, "socks", "established", "other", "", "socks", `x\x0a.manage.microsoft.com`, 443,
			`{"version":"5","command":"connect","reply":0,"auth":"none"}`, "not a host name"},
		{"a stream starting with 0x05 that is not SOCKS", func(w *wire) {
			k := w.open(40115, 1080)
			k.client(hexBytes(t, "0503ffffff00112233445566778899"))
			k.server([]byte("no"))
			k.close()
		}, "unknown", "established", "other", "", "", "", 1080, "", ""},
		{"a SOCKS5-like greeting followed by other bytes", func(w *wire) {
			k := w.open(40116, 443)
			k.client(hexBytes(t, "050100"))
			k.client(hexBytes(t, "16030100"))
			k.close()
		}, "unknown", "established", "other", "", "", "", 443, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			tt.run(w)
			var r *result.Record
			for i, rec := range w.finish() {
				if rec.Type == "flow" {
					r = &w.out.records[i]
				}
			}
			if r == nil {
				t.Fatal("no flow record")
			}
			if r.Transport != tt.transport || string(r.State) != tt.state || string(r.Verdict) != tt.verdict ||
				string(r.Stage) != tt.stage || string(r.NameSource) != tt.src || r.Name != tt.recName || r.Port != tt.port {
				t.Errorf("got %s %s %s stage %q source %q name %q port %d; want %s %s %s %q %q %q %d (history %s, reason %q)",
					r.Transport, r.State, r.Verdict, r.Stage, r.NameSource, r.Name, r.Port, tt.transport, tt.state,
					tt.verdict, tt.stage, tt.src, tt.recName, tt.port, r.History, r.Reason)
			}
			var socks string
			if r.SOCKS != nil {
				b, _ := json.Marshal(r.SOCKS)
				socks = string(b)
			}
			if socks != tt.socks {
				t.Errorf("socks %s, want %s", socks, tt.socks)
			}
			if r.ViaProxy != (tt.socks != "") {
				t.Errorf("via_proxy %v", r.ViaProxy)
			}
			if !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("reason %q lacks %q", r.Reason, tt.reason)
			}
			if b, _ := json.Marshal(r); strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "intune\"") {
				t.Errorf("the record holds the credentials: %s", b)
			}
		})
	}
}

// TestEngineSOCKSVerdictFrame: a refusal's verdict frame is the proxy's reply.
func TestEngineSOCKSVerdictFrame(t *testing.T) {
	w := newWire(t, analyze.Options{})
	k := w.open(40200, 1080)
	k.client(hexBytes(t, curlGreeting))
	k.server(hexBytes(t, danteMethod))
	k.client(socks5Domain("wustat.microsoft.com", 443))
	k.server(hexBytes(t, "05020001c6120001b442"))
	replyFrame := w.frame
	k.close()
	recs := w.finish()
	if len(recs) != 1 || recs[0].VerdictFrame != replyFrame || recs[0].Verdict != rules.Blocked {
		t.Fatalf("want one blocked record with verdict frame %d: %+v", replyFrame, recs)
	}
}
