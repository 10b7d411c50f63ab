package analyze_test

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/decode"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// wire builds packet sequences for engine tests, frame by frame, with capture time advancing 10 ms a frame.
type wire struct {
	t      testing.TB
	eng    *analyze.Engine
	out    *collector
	frame  uint64
	now    time.Time
	client netip.Addr
	server netip.Addr
}

func newWire(t testing.TB, opts analyze.Options) *wire {
	t.Helper()
	if opts.Matcher == nil {
		table, err := rules.Load(nil)
		if err != nil {
			t.Fatal(err)
		}
		opts.Matcher = rules.NewMatcher(table)
	}
	out := &collector{}
	eng, err := analyze.New(opts, out)
	if err != nil {
		t.Fatal(err)
	}
	return &wire{t: t, eng: eng, out: out, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		client: netip.MustParseAddr("198.18.0.2"), server: netip.MustParseAddr("198.18.1.10")}
}

// send feeds one packet; src says which side sends it.
func (w *wire) send(p decode.Packet) {
	w.t.Helper()
	w.frame++
	w.now = w.now.Add(10 * time.Millisecond)
	if p.PayloadWireLen == 0 {
		p.PayloadWireLen = len(p.Payload)
	}
	f := capture.Frame{Timestamp: w.now, Number: w.frame, WireLen: 54 + len(p.Payload)}
	if err := w.eng.Packet(&f, &p); err != nil {
		w.t.Fatal(err)
	}
}

// wait advances capture time without a packet reaching the engine's tables (a packet of another flow).
func (w *wire) wait(d time.Duration) { w.now = w.now.Add(d) }

func (w *wire) tcp(fromClient bool, sport, dport uint16, flags uint8, seq, ack uint32, payload []byte) {
	src, dst := w.client, w.server
	if !fromClient {
		src, dst = dst, src
	}
	w.send(decode.Packet{Src: src, Dst: dst, IPProto: 6, SrcPort: sport, DstPort: dport, TCPFlags: flags,
		Seq: seq, Ack: ack, Payload: payload})
}

func (w *wire) finish() []result.Record {
	w.t.Helper()
	if err := w.eng.Finish(result.CaptureFacts{}); err != nil {
		w.t.Fatal(err)
	}
	return w.out.records
}

const (
	fin = decode.FlagFIN
	syn = decode.FlagSYN
	rst = decode.FlagRST
	psh = decode.FlagPSH
	ack = decode.FlagACK
)

// clientHello returns the first flight of Go's TLS client for sni: a real ClientHello, post-quantum key share
// included, so it is larger than one segment.
func clientHello(t testing.TB, sni string) []byte {
	t.Helper()
	c, s := net.Pipe()
	go func() {
		cl := tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		cl.Handshake() // fails when the pipe closes
	}()
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := s.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if len(buf) >= 5 && len(buf) >= 5+int(binary.BigEndian.Uint16(buf[3:5])) {
			break
		}
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}
	s.Close()
	c.Close()
	return buf
}

// handshake opens a connection from client port sport with ISNs 1000 (client) and 5000 (server).
func (w *wire) handshake(sport, dport uint16) {
	w.tcp(true, sport, dport, syn, 1000, 0, nil)
	w.tcp(false, dport, sport, syn|ack, 5000, 1001, nil)
	w.tcp(true, sport, dport, ack, 1001, 5001, nil)
}

func TestEngineTCPOutcomes(t *testing.T) {
	const name = "enrollment.manage.microsoft.com"
	hello := clientHello(t, name)
	if len(hello) < 1500 {
		t.Logf("hello is %d bytes: not split", len(hello))
	}
	tests := []struct {
		name                       string
		run                        func(w *wire)
		state, verdict, stage, src string
	}{
		{"established, hello in two segments out of order", func(w *wire) {
			w.handshake(40000, 443)
			w.tcp(true, 40000, 443, ack|psh, 1001+1000, 5001, hello[1000:])
			w.tcp(true, 40000, 443, ack, 1001, 5001, hello[:1000])
			w.tcp(false, 443, 40000, ack|psh, 5001, 1001+uint32(len(hello)), []byte("server hello"))
		}, "established", "allowed", "", "sni"},
		{"hello retransmitted and overlapping", func(w *wire) {
			w.handshake(40001, 443)
			w.tcp(true, 40001, 443, ack, 1001, 5001, hello[:700])
			w.tcp(true, 40001, 443, ack, 1001, 5001, hello[:900])
			w.tcp(true, 40001, 443, ack|psh, 1001+500, 5001, hello[500:])
		}, "established", "allowed", "", "sni"},
		{"snaplen cut hello gives no name", func(w *wire) {
			w.handshake(40002, 443)
			w.send(decode.Packet{Src: w.client, Dst: w.server, IPProto: 6, SrcPort: 40002, DstPort: 443,
				TCPFlags: ack, Seq: 1001, Ack: 5001, Payload: hello[:40], PayloadWireLen: len(hello), Truncated: true})
		}, "established", "other", "", ""},
		{"SYN retransmitted, no answer", func(w *wire) {
			w.tcp(true, 40003, 443, syn, 1000, 0, nil)
			w.tcp(true, 40003, 443, syn, 1000, 0, nil)
			w.tcp(true, 40003, 443, syn, 1000, 0, nil)
		}, "unanswered", "other", "", ""},
		{"refused", func(w *wire) {
			w.tcp(true, 40004, 443, syn, 1000, 0, nil)
			w.tcp(false, 443, 40004, rst|ack, 0, 1001, nil)
		}, "refused", "other", "", ""},
		{"reset after hello", func(w *wire) {
			w.handshake(40005, 443)
			w.tcp(true, 40005, 443, ack|psh, 1001, 5001, hello)
			w.tcp(false, 443, 40005, rst, 5001, 0, nil)
		}, "reset", "reset", "after-client-hello", "sni"},
		{"client aborts after the handshake", func(w *wire) {
			w.handshake(40006, 443)
			w.tcp(true, 40006, 443, ack|psh, 1001, 5001, hello)
			w.tcp(false, 443, 40006, ack|psh, 5001, 1001+uint32(len(hello)), []byte("server hello"))
			w.tcp(true, 40006, 443, rst|ack, 1001+uint32(len(hello)), 0, nil)
		}, "aborted", "allowed", "", "sni"},
		{"server resets after the client's FIN", func(w *wire) {
			w.handshake(40007, 443)
			w.tcp(true, 40007, 443, ack|psh, 1001, 5001, hello)
			w.tcp(false, 443, 40007, ack|psh, 5001, 1001+uint32(len(hello)), []byte("server hello"))
			w.tcp(true, 40007, 443, fin|ack, 1001+uint32(len(hello)), 5013, nil)
			w.tcp(false, 443, 40007, rst, 5013, 0, nil)
		}, "established", "allowed", "", "sni"},
		{"listed name on a port the rule does not allow", func(w *wire) {
			w.handshake(40008, 8443)
			w.tcp(true, 40008, 8443, ack|psh, 1001, 5001, hello)
			w.tcp(false, 8443, 40008, ack|psh, 5001, 1001+uint32(len(hello)), []byte("x"))
		}, "established", "port-not-allowed", "", "sni"},
		{"HTTP Host", func(w *wire) {
			w.handshake(40009, 80)
			w.tcp(true, 40009, 80, ack|psh, 1001, 5001, []byte("GET / HTTP/1.1\r\nHost: go.microsoft.com:80\r\n\r\n"))
			w.tcp(false, 80, 40009, ack|psh, 5001, 1100, []byte("HTTP/1.1 200 OK\r\n\r\n"))
		}, "established", "allowed", "", "http-host"},
		{"CONNECT answered 407", func(w *wire) {
			w.handshake(40010, 3128)
			w.tcp(true, 40010, 3128, ack|psh, 1001, 5001, []byte("CONNECT enrollment.manage.microsoft.com:443 HTTP/1.1\r\nHost: enrollment.manage.microsoft.com:443\r\n\r\n"))
			w.tcp(false, 3128, 40010, ack|psh, 5001, 1100, []byte("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"))
			w.tcp(false, 3128, 40010, fin|ack, 5050, 1100, nil)
		}, "established", "blocked", "after-connect", "connect"},
		{"CONNECT 200 then the tunnel's hello", func(w *wire) {
			head := "CONNECT enrollment.manage.microsoft.com:443 HTTP/1.1\r\n\r\n"
			w.handshake(40011, 3128)
			w.tcp(true, 40011, 3128, ack|psh, 1001, 5001, []byte(head))
			w.tcp(false, 3128, 40011, ack|psh, 5001, 1001+uint32(len(head)), []byte("HTTP/1.1 200 Connection established\r\n\r\n"))
			w.tcp(true, 40011, 3128, ack|psh, 1001+uint32(len(head)), 5040, hello)
			w.tcp(false, 3128, 40011, ack|psh, 5040, 1001+uint32(len(head)+len(hello)), []byte("server hello"))
		}, "established", "allowed", "", "sni"},
		{"CONNECT 200 then reset after the hello", func(w *wire) {
			head := "CONNECT enrollment.manage.microsoft.com:443 HTTP/1.1\r\n\r\n"
			answer := "HTTP/1.1 200 Connection established\r\n\r\n"
			w.handshake(40012, 3128)
			w.tcp(true, 40012, 3128, ack|psh, 1001, 5001, []byte(head))
			w.tcp(false, 3128, 40012, ack|psh, 5001, 1001+uint32(len(head)), []byte(answer))
			w.tcp(true, 40012, 3128, ack|psh, 1001+uint32(len(head)), 5001+uint32(len(answer)), hello)
			w.tcp(false, 3128, 40012, rst, 5001+uint32(len(answer)), 0, nil)
		}, "reset", "reset", "after-client-hello", "sni"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			tt.run(w)
			recs := w.finish()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1: %+v", len(recs), recs)
			}
			r := recs[0]
			if string(r.State) != tt.state || string(r.Verdict) != tt.verdict || string(r.Stage) != tt.stage || string(r.NameSource) != tt.src {
				t.Errorf("got state %s verdict %s stage %q source %q; want %s %s %q %q (history %s, name %q)",
					r.State, r.Verdict, r.Stage, r.NameSource, tt.state, tt.verdict, tt.stage, tt.src, r.History, r.Name)
			}
		})
	}
}

// dns feeds a query for name from the client and, unless rcode < 0, the server's answer with addrs (and a CNAME
// first when cname is set).
func (w *wire) dns(id uint16, name string, qtype dnsmessage.Type, rcode int, cname string, addrs ...netip.Addr) {
	w.t.Helper()
	resolver := netip.MustParseAddr("198.18.0.1")
	q := dnsmessage.Question{Name: dnsmessage.MustNewName(name + "."), Type: qtype, Class: dnsmessage.ClassINET}
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true}, Questions: []dnsmessage.Question{q}}
	query, err := msg.Pack()
	if err != nil {
		w.t.Fatal(err)
	}
	w.send(decode.Packet{Src: w.client, Dst: resolver, IPProto: 17, SrcPort: 5353 + id, DstPort: 53, Payload: query})
	if rcode < 0 {
		return
	}
	msg.Header.Response, msg.Header.RCode = true, dnsmessage.RCode(rcode)
	owner := q.Name
	if cname != "" {
		target := dnsmessage.MustNewName(cname + ".")
		msg.Answers = append(msg.Answers, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: owner, Type: dnsmessage.TypeCNAME, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.CNAMEResource{CNAME: target}})
		owner = target
	}
	for _, a := range addrs {
		h := dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: 60}
		if a.Is4() {
			h.Type = dnsmessage.TypeA
			msg.Answers = append(msg.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AResource{A: a.As4()}})
		} else {
			h.Type = dnsmessage.TypeAAAA
			msg.Answers = append(msg.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}})
		}
	}
	answer, err := msg.Pack()
	if err != nil {
		w.t.Fatal(err)
	}
	w.send(decode.Packet{Src: resolver, Dst: w.client, IPProto: 17, SrcPort: 53, DstPort: 5353 + id, Payload: answer})
}

func TestEngineNamesFromDNS(t *testing.T) {
	w := newWire(t, analyze.Options{})
	// The question is listed; the CNAME target is a CDN name that is not: the connection takes the question.
	w.dns(1, "enrollment.manage.microsoft.com", dnsmessage.TypeA, 0, "cdn.example.net", w.server)
	w.tcp(true, 41000, 443, syn, 1000, 0, nil)
	w.tcp(true, 41000, 443, syn, 1000, 0, nil)
	recs := w.finish()
	if len(recs) != 2 {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	dns, flow := recs[0], recs[1]
	if dns.Type != "dns" || dns.Verdict != rules.Allowed || dns.Rcode != "NOERROR" || len(dns.CNAMEs) != 1 {
		t.Errorf("dns record: %+v", dns)
	}
	if flow.Name != "enrollment.manage.microsoft.com" || flow.NameSource != "dns" || flow.NameFrame != 2 ||
		flow.Verdict != rules.Blocked || flow.Stage != "after-syn" || flow.State != "unanswered" {
		t.Errorf("flow record: %+v", flow)
	}
	if want := []string{"enrollment.manage.microsoft.com", "cdn.example.net", w.server.String()}; !slices.Equal(flow.DNSChain, want) {
		t.Errorf("chain %q, want %q", flow.DNSChain, want)
	}
}

func TestEngineDNSFailures(t *testing.T) {
	addr := netip.MustParseAddr("198.18.1.20")
	tests := []struct {
		name    string
		run     func(w *wire)
		verdict []rules.Verdict // per record, in report order
		warn    []bool
	}{
		{"NXDOMAIN", func(w *wire) {
			w.dns(1, "enrollment.manage.microsoft.com", dnsmessage.TypeA, int(dnsmessage.RCodeNameError), "")
		}, []rules.Verdict{rules.Blocked}, []bool{false}},
		{"no answer", func(w *wire) {
			w.dns(1, "enrollment.manage.microsoft.com", dnsmessage.TypeA, -1, "")
		}, []rules.Verdict{rules.Blocked}, []bool{false}},
		{"REFUSED AAAA beside a good A", func(w *wire) {
			w.dns(1, "enrollment.manage.microsoft.com", dnsmessage.TypeAAAA, int(dnsmessage.RCodeRefused), "")
			w.dns(2, "enrollment.manage.microsoft.com", dnsmessage.TypeA, 0, "", addr)
		}, []rules.Verdict{rules.Allowed, rules.Allowed}, []bool{true, false}},
		{"good A, then a SERVFAIL", func(w *wire) {
			w.dns(1, "enrollment.manage.microsoft.com", dnsmessage.TypeA, 0, "", addr)
			w.dns(2, "Enrollment.Manage.Microsoft.com", dnsmessage.TypeA, int(dnsmessage.RCodeServerFailure), "")
		}, []rules.Verdict{rules.Allowed, rules.Allowed}, []bool{false, true}},
		{"unlisted name fails: not blocked", func(w *wire) {
			w.dns(1, "graph.windows.net", dnsmessage.TypeA, int(dnsmessage.RCodeNameError), "")
		}, []rules.Verdict{rules.Unlisted}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t, analyze.Options{})
			tt.run(w)
			recs := w.finish()
			if len(recs) != len(tt.verdict) {
				t.Fatalf("%d records, want %d: %+v", len(recs), len(tt.verdict), recs)
			}
			for i, r := range recs {
				if r.Verdict != tt.verdict[i] || (r.Warning != "") != tt.warn[i] {
					t.Errorf("record %d: verdict %s warning %q; want %s, warning %v", i, r.Verdict, r.Warning, tt.verdict[i], tt.warn[i])
				}
			}
		})
	}
}

func TestEnginePortReuse(t *testing.T) {
	w := newWire(t, analyze.Options{})
	w.handshake(42000, 443)
	w.tcp(true, 42000, 443, fin|ack, 1001, 5001, nil)
	w.tcp(false, 443, 42000, fin|ack, 5001, 1002, nil)
	w.tcp(true, 42000, 443, ack, 1002, 5002, nil)
	w.handshake(42000, 443) // the same ports again: a new connection
	recs := w.finish()
	if len(recs) != 2 || recs[0].State != "established" || recs[1].State != "established" {
		t.Fatalf("records: %+v", recs)
	}
}

func TestEngineExpiresIdleConnections(t *testing.T) {
	w := newWire(t, analyze.Options{HalfOpenTimeout: 30 * time.Second})
	w.tcp(true, 43000, 443, syn, 1000, 0, nil)
	w.wait(31 * time.Second)
	w.tcp(true, 43001, 443, syn, 1000, 0, nil) // moves capture time on: the first is reported now
	if len(w.out.records) != 1 || w.out.records[0].ClientPort != 43000 {
		t.Fatalf("after 31 s: %+v", w.out.records)
	}
	w.finish()
}

// BenchmarkEngineNamedConnection measures the per-packet path for a connection whose name is already known:
// the steady state of a bulk download. It must not allocate.
func BenchmarkEngineNamedConnection(b *testing.B) {
	w := newWire(b, analyze.Options{})
	w.handshake(44000, 443)
	w.tcp(true, 44000, 443, ack|psh, 1001, 5001, clientHello(b, "enrollment.manage.microsoft.com"))
	payload := make([]byte, 1400)
	p := decode.Packet{Src: w.server, Dst: w.client, IPProto: 6, SrcPort: 443, DstPort: 44000, TCPFlags: ack,
		Ack: 3000, Payload: payload, PayloadWireLen: len(payload)}
	f := capture.Frame{Timestamp: w.now, WireLen: 1454}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Seq = 5001 + uint32(i*len(payload))
		f.Number++
		f.Timestamp = f.Timestamp.Add(time.Microsecond)
		if err := w.eng.Packet(&f, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEngineReportsEstablishedEarly checks live mode's early report: a named connection is reported once the
// server answered its hello, not again when it ends the same way, and again when it ends with a reset.
func TestEngineReportsEstablishedEarly(t *testing.T) {
	hello := clientHello(t, "enrollment.manage.microsoft.com")
	for _, reset := range []bool{false, true} {
		w := newWire(t, analyze.Options{ReportEstablished: true})
		w.handshake(45000, 443)
		w.tcp(true, 45000, 443, ack|psh, 1001, 5001, hello)
		if n := len(w.out.records); n != 0 {
			t.Fatalf("after the hello alone: %d records, want none (an SNI filter may still reset)", n)
		}
		w.tcp(false, 443, 45000, ack|psh, 5001, 1001+uint32(len(hello)), []byte("server hello"))
		if n := len(w.out.records); n != 1 || w.out.records[0].Verdict != rules.Allowed {
			t.Fatalf("after the server's answer: %d records %+v, want one allowed", n, w.out.records)
		}
		if reset {
			w.tcp(false, 443, 45000, rst, 5013, 0, nil)
		}
		recs := w.finish()
		want := []rules.Verdict{rules.Allowed}
		if reset {
			want = append(want, rules.Reset)
		}
		var got []rules.Verdict
		for _, r := range recs {
			got = append(got, r.Verdict)
		}
		if !slices.Equal(got, want) {
			t.Errorf("reset=%v: verdicts %v, want %v", reset, got, want)
		}
		if n := w.out.summary.Verdicts[string(want[len(want)-1])]; n != 1 || len(w.out.summary.Verdicts) != 1 {
			t.Errorf("reset=%v: summary verdicts %v, want the final one counted once", reset, w.out.summary.Verdicts)
		}
	}
}

// BenchmarkEngineDNSExchange measures one DNS exchange, a query and its answer with one address, from
// clients and names that keep changing (4,096 of them, over 64 clients), the engine's DNS state at its
// steady size: b.N counts exchanges.
func BenchmarkEngineDNSExchange(b *testing.B) {
	table, err := rules.Load(nil)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := analyze.New(analyze.Options{Matcher: rules.NewMatcher(table)}, &countingSink{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 4096
	resolver := netip.MustParseAddr("198.18.0.1")
	type exchange struct{ query, answer decode.Packet }
	xs := make([]exchange, n)
	for i := range xs {
		client := netip.AddrFrom4([4]byte{198, 18, 2, byte(i % 64)})
		name := dnsmessage.MustNewName(fmt.Sprintf("host%d.example.net.", i))
		q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
		msg := dnsmessage.Message{Header: dnsmessage.Header{ID: uint16(i), RecursionDesired: true},
			Questions: []dnsmessage.Question{q}}
		query, err := msg.Pack()
		if err != nil {
			b.Fatal(err)
		}
		msg.Header.Response = true
		msg.Answers = []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: name, Type: dnsmessage.TypeA,
			Class: dnsmessage.ClassINET, TTL: 300}, Body: &dnsmessage.AResource{A: [4]byte{198, 19, byte(i >> 8), byte(i)}}}}
		answer, err := msg.Pack()
		if err != nil {
			b.Fatal(err)
		}
		port := uint16(20000 + i)
		xs[i] = exchange{
			query: decode.Packet{Src: client, Dst: resolver, IPProto: 17, SrcPort: port, DstPort: 53, Payload: query,
				PayloadWireLen: len(query)},
			answer: decode.Packet{Src: resolver, Dst: client, IPProto: 17, SrcPort: 53, DstPort: port, Payload: answer,
				PayloadWireLen: len(answer)},
		}
	}
	f := capture.Frame{Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	send := func(p *decode.Packet) {
		f.Number++
		f.Timestamp = f.Timestamp.Add(100 * time.Microsecond)
		f.WireLen = 42 + len(p.Payload)
		if err := eng.Packet(&f, p); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2 * n { // warm up: every table at its steady size
		x := &xs[i%n]
		send(&x.query)
		send(&x.answer)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x := &xs[i%n]
		send(&x.query)
		send(&x.answer)
	}
}

// TestPacketPathsDoNotAllocate runs the per-packet benchmarks and fails when a packet allocates: a named
// connection's data, a TLS connection's data after its server flight was read and its chain verified, and a
// QUIC flow's datagrams after its Initials. make bench reports the first; this keeps all three in every test
// run. (A rare allocation, such as a sweep's once a second of capture time, rounds to 0 per packet.)
func TestPacketPathsDoNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three benchmarks (about a second each)")
	}
	for name, bench := range map[string]func(*testing.B){
		"named connection": BenchmarkEngineNamedConnection,
		"after TLS flight": BenchmarkEngineAfterTLSFlight,
		"QUIC datagrams":   BenchmarkEngineQUICDatagrams,
	} {
		r := testing.Benchmark(bench)
		if r.N == 0 {
			t.Fatalf("%s: the benchmark failed", name)
		}
		if n := r.AllocsPerOp(); n != 0 {
			t.Errorf("%s: %d allocations a packet (%d bytes), want 0", name, n, r.AllocedBytesPerOp())
		}
	}
}
