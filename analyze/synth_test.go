package analyze_test

import (
	"fmt"

	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/rules"

	"github.com/intunecap/intunecap/tools/synth/gen"
)

// TestSynthVerdictCounts generates captures with the synthesizer and checks, at scale, that the engine gives
// exactly as many records of each verdict as the generator made: every handshake, split and reordered
// ClientHello, proxy answer, reset, unanswered SYN and DNS failure it wrote must come out as it meant.
func TestSynthVerdictCounts(t *testing.T) {
	tests := []struct {
		name string
		cfg  gen.Config
	}{
		{"pcap-20MB", gen.Config{Size: 20_000_000, Seed: 1, Format: "pcap", IPv6Share: 0.2}},
		{"pcapng-vlan", gen.Config{Size: 5_000_000, Seed: 2, Format: "pcapng", VLAN: true, IPv6Share: 0.5}},
		{"ipv6-only", gen.Config{Size: 3_000_000, Seed: 3, Format: "pcap", IPv6Share: 1}},
		{"syn-flood", gen.Config{Seed: 4, SYNFlood: 20_000}},
		{"conns", gen.Config{Size: 10_000_000, Seed: 5, Format: "pcap", IPv6Share: 0.2, Mix: gen.MixConns}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name+".pcap")
			want := synthesize(t, path, tt.cfg)
			c := analyzeFiles(t, path)
			got := map[string]int{}
			for _, r := range c.records {
				got[string(r.Verdict)]++
			}
			for v, n := range want.Verdicts {
				if got[v] != n {
					t.Errorf("verdict %s: %d records, the generator made %d", v, got[v], n)
				}
			}
			if len(c.records) != want.Records {
				t.Errorf("%d records, the generator made %d (%d flows, %d dns)", len(c.records), want.Records, want.Flows, want.DNS)
			}
			if c.summary == nil || c.summary.Capture.Packets != want.Packets {
				t.Errorf("summary packets differ from the %d written: %+v", want.Packets, c.summary)
			}
			// The reference is one engine in the reading goroutine, which writes its records as it finishes
			// them. On a worker, an engine queues them in slices of a few hundred handed to the merger: the
			// sweeps of the flood and of the conns mix finish thousands at once, across several slices.
			inline := encode(t, analyzeSource(t, 1, true, path))
			for n, got := range map[int]string{1: encode(t, c), 2: encode(t, analyzeWith(t, 2, path))} {
				if got != inline {
					t.Errorf("%d workers differ from one engine in the reading goroutine:\n%s", n, firstDiff(inline, got))
				}
			}
		})
	}
}

func synthesize(t *testing.T, path string, cfg gen.Config) *gen.Expected {
	t.Helper()
	exp, err := gen.WriteFile(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// BenchmarkAnalyzeCapture runs the whole offline path (read, decode, engine, a sink that counts) over a
// synthesized 100 MB gateway capture; b.N counts packets, so ns/op is the cost of one packet.
func BenchmarkAnalyzeCapture(b *testing.B) {
	benchmarkCapture(b, gen.Config{Size: 100_000_000, Seed: 7, Format: "pcap", IPv6Share: 0.2})
}

// BenchmarkAnalyzeConnCapture is BenchmarkAnalyzeCapture on a connection-heavy capture (gen.MixConns: a
// thousand sessions in flight, mostly DNS, handshakes and resets of a few KB), where much of the work is per
// connection, not per packet.
func BenchmarkAnalyzeConnCapture(b *testing.B) {
	benchmarkCapture(b, gen.Config{Size: 50_000_000, Seed: 8, Format: "pcap", IPv6Share: 0.2, Mix: gen.MixConns})
}

func benchmarkCapture(b *testing.B, cfg gen.Config) {
	path := filepath.Join(b.TempDir(), "bench.pcap")
	exp, err := gen.WriteFile(path, cfg)
	if err != nil {
		b.Fatal(err)
	}
	table, err := rules.Load(nil)
	if err != nil {
		b.Fatal(err)
	}
	matcher := rules.NewMatcher(table)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for done := 0; done < b.N; done += int(exp.Packets) {
				r, err := capture.Open([]string{path})
				if err != nil {
					b.Fatal(err)
				}
				sink := &countingSink{}
				opts := analyze.Options{Matcher: matcher, Workers: workers}
				if err := analyze.Run(analyze.Files(r), opts, sink, analyze.Hooks{}); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}
