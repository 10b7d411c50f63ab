package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/capture/live"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

func TestLiveFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no interface given"},
		{[]string{"-i", "x", "--format", "json"}, "--format"},
		{[]string{"-i", "x", "--fail-on", "nope"}, "--fail-on"},
		{[]string{"-i", "x", "--write-max", "lots"}, "--write-max"},
		{[]string{"-i", "x", "--snaplen", "10"}, "--snaplen"},
		{[]string{"-i", "x", "--syn-wait", "10ms"}, "--syn-wait"},
		{[]string{"-i", "x", "extra"}, "unexpected argument"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		if code := runLive(tc.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("live %v: status %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}

func TestProblemLine(t *testing.T) {
	tests := []struct {
		r    result.Record
		want string
	}{
		{result.Record{Type: "flow", Proto: "tcp", Client: "198.18.0.2", ClientPort: 40000, Server: "198.18.1.22",
			ServerPort: 443, Name: "ctldl.windowsupdate.com", NameSource: "dns", State: "unanswered",
			Stage: "after-syn", Verdict: rules.Blocked, Rule: "*.windowsupdate.com", Reason: "no answer to the SYN"},
			"blocked          tcp 198.18.0.2:40000 -> 198.18.1.22:443 ctldl.windowsupdate.com (dns) unanswered after-syn rule *.windowsupdate.com: no answer to the SYN\n"},
		{result.Record{Type: "dns", Proto: "udp", Client: "2001:2::2", ClientPort: 5353, Server: "2001:2::1",
			ServerPort: 53, Name: "evil\x1b[2J.example", NameSource: "dns", QType: "AAAA", State: "answered",
			Verdict: rules.Reset},
			"reset            udp [2001:2::2]:5353 -> [2001:2::1]:53 evil\\x1b[2J.example (dns) AAAA answered\n"},
	}
	for _, tc := range tests {
		got := problemLine(&tc.r)
		if _, rest, ok := strings.Cut(got, " "); !ok || rest != tc.want {
			t.Errorf("problemLine = %q, want clock then %q", got, tc.want)
		}
	}
}

func TestIsProblem(t *testing.T) {
	tests := []struct {
		v    rules.Verdict
		warn string
		fail bool
		want bool
	}{
		{rules.Allowed, "", false, false},
		{rules.Allowed, "AAAA refused beside a good A", false, true},
		{rules.Unlisted, "", false, false},
		{rules.Unlisted, "", true, true},
		{rules.Blocked, "", false, true},
		{rules.PortNotAllowed, "", false, true},
	}
	for _, tc := range tests {
		if got := isProblem(&result.Record{Verdict: tc.v, Warning: tc.warn}, tc.fail); got != tc.want {
			t.Errorf("isProblem(%s, %q, %v) = %v", tc.v, tc.warn, tc.fail, got)
		}
	}
}

// fileSource replays a capture file as if it were an interface.
type fileSource struct {
	r      *capture.Reader
	closed atomic.Bool
}

func (s *fileSource) Next() (capture.Frame, error) {
	if s.closed.Load() {
		return capture.Frame{}, io.EOF
	}
	return s.r.Next()
}
func (s *fileSource) Stats() (live.Stats, error) { return live.Stats{Received: 1}, nil }
func (s *fileSource) Close()                     { s.closed.Store(true) }

const demoCapture = "../../testdata/pcaps/demo.pcapng"

// runFile drives the live loop over a capture file and returns the jsonl output.
func runFile(t *testing.T, path string, limit uint64, writer *pcapRotator) (string, *liveSink) {
	t.Helper()
	r, err := capture.Open([]string{path})
	if err != nil {
		t.Skipf("no capture %s: %v", path, err)
	}
	defer r.Close()
	var out bytes.Buffer
	w, err := report.New("jsonl", &out, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	table, err := rules.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := &liveSink{out: w, failOn: []rules.Verdict{rules.Blocked, rules.Reset}}
	opts := analyze.Options{Matcher: rules.NewMatcher(table), ClosedLinger: time.Nanosecond,
		HalfOpenTimeout: defaultSynWait, HoldDNSFailures: liveHoldDNS, ReportEstablished: true}
	var warnings bytes.Buffer
	h := &fileSource{r: r}
	l := &liveHooks{h: h, writer: writer, status: sink, iface: "test0", link: "Ethernet",
		warn: func(string, ...any) { warnings.WriteString("warned") }}
	if err := l.run(newLiveSource(context.Background(), h, nil, limit, time.Now), opts, sink); err != nil {
		t.Fatal(err)
	}
	return out.String(), sink
}

// TestLoopMatchesAnalyze checks that the live loop over a file gives the records analyze gives.
func TestLoopMatchesAnalyze(t *testing.T) {
	got, sink := runFile(t, demoCapture, 0, nil)
	var want, errOut bytes.Buffer
	if code := runAnalyze([]string{"--format", "jsonl", demoCapture}, nil, &want, &errOut); code == 2 {
		t.Fatalf("analyze: %s", errOut.String())
	}
	if n := strings.Count(got, "\n"); n < 2 || sink.summary == nil {
		t.Fatalf("live loop gave %d lines and summary %v", n, sink.summary)
	}
	if g, w := verdictLines(got), verdictLines(want.String()); g != w {
		t.Errorf("verdicts differ from analyze:\nlive:\n%s\nanalyze:\n%s", g, w)
	}
}

// verdictLines keeps each record's endpoints, name and verdict, sorted, so record order does not matter.
func verdictLines(jsonl string) string {
	var lines []string
	for _, line := range strings.Split(jsonl, "\n") {
		if strings.Contains(line, `"type":"summary"`) || line == "" {
			continue
		}
		var keep []string
		for _, field := range strings.Split(line, ",") {
			for _, k := range []string{`"client_port"`, `"server"`, `"name"`, `"verdict"`, `"first_frame"`} {
				if strings.HasPrefix(field, k+":") {
					keep = append(keep, field)
				}
			}
		}
		lines = append(lines, strings.Join(keep, " "))
	}
	slicesSort(lines)
	return strings.Join(lines, "\n")
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestLoopCount(t *testing.T) {
	_, sink := runFile(t, demoCapture, 5, nil)
	if sink.packets != 5 {
		t.Errorf("--count 5 analyzed %d packets", sink.packets)
	}
}

// TestWriteRotation writes the demo capture through a small --write-max and reads the files back.
func TestWriteRotation(t *testing.T) {
	tests := []struct {
		name      string
		max       int64
		keep      int
		wantFiles int
	}{
		{"one file", 0, 10, 1},
		{"rotated, all kept", 2000, 0, -1},
		{"rotated, two kept", 2000, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "cap.pcapng")
			w, err := newPcapRotator(base, tc.max, tc.keep, "test0", "", 1, 262144)
			if err != nil {
				t.Fatal(err)
			}
			_, sink := runFile(t, demoCapture, 0, w)
			files, _ := filepath.Glob(filepath.Join(filepath.Dir(base), "*.pcapng"))
			if tc.wantFiles > 0 && len(files) != tc.wantFiles || tc.wantFiles < 0 && len(files) < 3 {
				t.Fatalf("%d files %v, want %d", len(files), files, tc.wantFiles)
			}
			r, err := capture.Open(files)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var n uint64
			for {
				if _, err := r.Next(); err != nil {
					break
				}
				n++
			}
			if tc.keep == 0 || tc.max == 0 {
				if n != sink.packets {
					t.Errorf("read back %d frames of %d", n, sink.packets)
				}
			}
			if len(r.Warnings()) > 0 {
				t.Errorf("warnings reading back: %v", r.Warnings())
			}
		})
	}
}

// TestWriteBadPath fails before capturing when --write cannot be created.
func TestWriteBadPath(t *testing.T) {
	if _, err := newPcapRotator(filepath.Join(t.TempDir(), "no", "such", "dir.pcapng"), 0, 0, "x", "", 1, 100); err == nil {
		t.Error("no error for a file in a missing directory")
	}
}

// repeatSource returns the same frame n times, for the benchmark.
type repeatSource struct {
	f capture.Frame
	n int
}

func (s *repeatSource) Next() (capture.Frame, error) {
	if s.n == 0 {
		return capture.Frame{}, io.EOF
	}
	s.n--
	s.f.Number++
	return s.f, nil
}
func (s *repeatSource) Stats() (live.Stats, error) { return live.Stats{}, nil }
func (s *repeatSource) Close()                     {}

// isEthernetIPv4TCP reports whether b is an untagged Ethernet frame carrying IPv4 and TCP.
func isEthernetIPv4TCP(b []byte) bool {
	return len(b) >= 34 && b[12] == 0x08 && b[13] == 0x00 && b[23] == 6
}

// BenchmarkLoop measures the copy, queue and analysis of one packet: steady state must not allocate.
func BenchmarkLoop(b *testing.B) {
	r, err := capture.Open([]string{demoCapture})
	if err != nil {
		b.Skip(err)
	}
	var f capture.Frame
	for !isEthernetIPv4TCP(f.Data) { // a TCP segment: the common case on a gateway
		if f, err = r.Next(); err != nil {
			b.Fatal(err)
		}
	}
	f.Data = append([]byte(nil), f.Data...)
	r.Close()
	table, _ := rules.Load(nil)
	w, _ := report.New("jsonl", io.Discard, report.Options{})
	sink := &liveSink{out: w}
	h := &repeatSource{f: f, n: b.N}
	l := &liveHooks{h: h, status: sink}
	b.ReportAllocs()
	b.ResetTimer()
	if err := l.run(newLiveSource(context.Background(), h, nil, 0, time.Now), analyze.Options{Matcher: rules.NewMatcher(table)}, sink); err != nil {
		b.Fatal(err)
	}
}
