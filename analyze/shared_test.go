package analyze_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/internal/pcaptest"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// collector is a Sink that keeps everything, for tests.
type collector struct {
	records []result.Record
	summary *result.Summary
}

func (c *collector) Record(r *result.Record) error   { c.records = append(c.records, *r); return nil }
func (c *collector) Summary(s *result.Summary) error { c.summary = s; return nil }

// analyzeFiles runs the whole offline path over paths with the default rules.
func analyzeFiles(t testing.TB, paths ...string) *collector {
	t.Helper()
	return analyzeWith(t, 1, paths...)
}

// analyzeWith runs the offline path with the given number of workers.
func analyzeWith(t testing.TB, workers int, paths ...string) *collector {
	t.Helper()
	return analyzeSource(t, workers, false, paths...)
}

// plainSource reads capture files without keeping frames in place, so Run runs its one engine in the reading
// goroutine (not pipelined), and copies the frames it hands to workers, as for a live source.
type plainSource struct{ r *capture.Reader }

func (p plainSource) Next() (*capture.Frame, time.Time, error) {
	f, err := p.r.NextFrame()
	return f, time.Time{}, err
}
func (p plainSource) Retain() bool { return false }

// analyzeSource is analyzeWith, through plainSource when plain is set.
func analyzeSource(t testing.TB, workers int, plain bool, paths ...string) *collector {
	t.Helper()
	table, err := rules.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.Open(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var c collector
	opts := analyze.Options{Matcher: rules.NewMatcher(table), Files: paths, Workers: workers}
	src := analyze.Files(r)
	if plain {
		src = plainSource{r}
	}
	facts := func() result.CaptureFacts { return analyze.FactsFrom(r) }
	if err := analyze.Run(src, opts, &c, analyze.Hooks{Facts: facts}); err != nil {
		t.Fatal(err)
	}
	return &c
}

// readTSV is pcaptest.ReadTSV under the name the analyze tests (scenarios_test.go too) call it by.

func col(header []string, name string) int {
	i := slices.Index(header, name)
	if i < 0 {
		panic("no column " + name)
	}
	return i
}

// nameSets is what a capture says about names, by where they came from.
type nameSets struct{ sni, quic, host, connect, dns map[string]bool }

func newNameSets() nameSets {
	return nameSets{sni: map[string]bool{}, quic: map[string]bool{}, host: map[string]bool{}, connect: map[string]bool{},
		dns: map[string]bool{}}
}

// tsharkNames extracts tshark's view: SNIs of TCP ClientHellos and of QUIC ClientHellos apart, the Host of the first HTTP request of each TCP
// stream (what names a connection), and every question name of port-53 DNS messages.
func tsharkNames(t *testing.T, dir, file string) nameSets {
	s := newNameSets()
	exp := filepath.Join(dir, "expected", file)
	h, rows := pcaptest.ReadTSV(t, exp+".tls.tsv")
	for _, r := range rows {
		set := s.sni
		if r[col(h, "quic.version")] != "" {
			set = s.quic // tshark decrypts QUIC v1 and v2 Initials itself
		}
		for _, n := range pcaptest.SplitList(r[col(h, "tls.handshake.extensions_server_name")]) {
			if !isAddr(n) { // an address in server_name names nothing a rule could match
				set[strings.ToLower(n)] = true
			}
		}
	}
	h, rows = pcaptest.ReadTSV(t, exp+".http_req.tsv")
	seen := map[string]bool{}
	for _, r := range rows {
		stream := r[col(h, "tcp.stream")]
		if r[col(h, "_ws.col.Protocol")] == "SSDP" || stream == "" || seen[stream] {
			continue
		}
		seen[stream] = true
		host := r[col(h, "http.host")]
		set := s.host
		if r[col(h, "http.request.method")] == "CONNECT" {
			host, set = r[col(h, "http.request.uri")], s.connect
		}
		if host = stripPort(host); host != "" && !isAddr(host) {
			set[strings.ToLower(host)] = true
		}
	}
	h, rows = pcaptest.ReadTSV(t, exp+".dns.tsv")
	for _, r := range rows {
		if r[col(h, "_ws.col.Protocol")] != "DNS" {
			continue
		}
		for _, n := range pcaptest.SplitList(r[col(h, "dns.qry.name")]) {
			s.dns[strings.ToLower(n)] = true
		}
	}
	return s
}

// ourNames extracts intunecap's view from its records.
func ourNames(c *collector) nameSets {
	s := newNameSets()
	for _, r := range c.records {
		n := strings.ToLower(r.Name)
		switch {
		case r.Type == "dns":
			s.dns[n] = true
		case r.Transport == "quic" && r.NameSource == "sni":
			s.quic[n] = true
		case r.NameSource == "sni":
			s.sni[n] = true
		case r.NameSource == "http-host":
			s.host[n] = true
		case r.NameSource == "connect":
			s.connect[n] = true
		}
		if r.Transport == "connect" && r.NameSource == "sni" {
			s.connect[n] = true // the tunnel's SNI names the connection; the CONNECT target was the same
		}
	}
	return s
}

func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]"); i > 0 {
			return h[1:i]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		return h[:i]
	}
	return h
}

func isAddr(h string) bool {
	return strings.Count(h, ".") == 3 && strings.Trim(h, "0123456789.") == "" || strings.Contains(h, ":")
}

// knownDifferences lists, per capture and name kind, the names where intunecap and tshark deliberately disagree,
// with why. "+" marks a name only intunecap reports, "-" one only tshark reports. It is empty: the deliberate
// differences are ways of comparing, applied to every capture alike, and listed here instead:
//   - An address in server_name or Host names nothing a rule could match: intunecap names such a connection
//     by the server address (or its DNS answer), so tshark's address-literal names are left out of the compare.
//   - A connection has one name: Host is compared for the first request of each TCP stream only (tshark lists
//     every request of a keep-alive connection, e.g. to a proxy), and a CONNECT tunnel whose ClientHello was
//     read is named by its SNI, which must equal the CONNECT target.
//   - QUIC ClientHellos are compared apart from TCP's ("quic"): the SNIs read from decrypted Initials.
//   - VLAN ids are part of intunecap's flow key (zeek-vlan-collisions-http.pcap: three flows where tshark
//     sees one); name sets are compared, so this changes no row.
//   - HTTP on unusual ports: intunecap reads the GET sent to port 22 in zeek-http-to-ssh-port-nsec.pcap, whose
//     Host is an address (see the first point), so the sets still agree.
var knownDifferences = map[string]map[string][]string{}

// TestSharedCapturesMatchTshark reads every public capture without error and checks that the SNIs, HTTP Hosts
// and DNS names intunecap extracts are the ones tshark extracts.
func TestSharedCapturesMatchTshark(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) < 80 {
		t.Fatalf("found %d captures in %s, want 80", len(files), dir)
	}
	for _, path := range files {
		file := filepath.Base(path)
		t.Run(file, func(t *testing.T) {
			got := ourNames(analyzeFiles(t, path))
			want := tsharkNames(t, dir, file)
			for kind, pair := range map[string][2]map[string]bool{
				"sni": {got.sni, want.sni}, "quic": {got.quic, want.quic}, "host": {got.host, want.host}, "dns": {got.dns, want.dns},
				"connect": {got.connect, want.connect},
			} {
				diff := setDiff(pair[0], pair[1])
				if !slices.Equal(diff, knownDifferences[file][kind]) {
					t.Errorf("%s names differ from tshark's: %q (known: %q)", kind, diff, knownDifferences[file][kind])
				}
			}
		})
	}
}

// setDiff lists "+name" for names only in ours and "-name" for names only in theirs, sorted.
func setDiff(ours, theirs map[string]bool) []string {
	var out []string
	for n := range ours {
		if !theirs[n] {
			out = append(out, "+"+n)
		}
	}
	for n := range theirs {
		if !ours[n] {
			out = append(out, "-"+n)
		}
	}
	sort.Strings(out)
	return out
}

// statesFor maps tshark's per-stream class (see ../shared/pcaps/expected/README.md) to the states intunecap may
// give the same connection. tshark's "reset" means any RST, so it splits by whether a SYN-ACK was seen.
func statesFor(class string, syn, synack int) []string {
	switch {
	case class == "syn_only":
		return []string{"unanswered"}
	case class == "established":
		return []string{"established"}
	case class == "reset" && synack > 0:
		return []string{"reset", "aborted", "established"}
	case class == "reset" && syn > 0:
		return []string{"refused", "unanswered"}
	case class == "reset":
		return []string{"reset", "partial"}
	case class == "synack_missing":
		return []string{"established", "aborted", "reset"}
	}
	return []string{"partial"}
}

// knownStateDifferences lists tshark streams (file → first frame) whose state deliberately differs, with why.
var knownStateDifferences = map[string]map[string]string{}

// TestSharedCapturesTCPOutcomes checks every TCP stream tshark found against the state intunecap gave the
// connection that starts at the same frame.
func TestSharedCapturesTCPOutcomes(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, path := range files {
		file := filepath.Base(path)
		t.Run(file, func(t *testing.T) {
			c := analyzeFiles(t, path)
			byFrame := map[string][]result.Record{}
			for _, r := range c.records {
				if r.Type == "flow" && r.Proto == "tcp" {
					k := strconv.FormatUint(r.FirstFrame, 10)
					byFrame[k] = append(byFrame[k], r)
				}
			}
			h, rows := pcaptest.ReadTSV(t, filepath.Join(dir, "expected", file+".tcp_streams.tsv"))
			for _, row := range rows {
				first := row[col(h, "first_frame")]
				syn, _ := strconv.Atoi(row[col(h, "syn")])
				synack, _ := strconv.Atoi(row[col(h, "synack")])
				want := statesFor(row[col(h, "class")], syn, synack)
				got := "(no connection starts at this frame)"
				if rs := byFrame[first]; len(rs) > 0 {
					got = string(rs[0].State)
				}
				if slices.Contains(want, got) {
					continue
				}
				if why, ok := knownStateDifferences[file][first]; ok {
					t.Logf("frame %s: %s, tshark %s: known: %s", first, got, row[col(h, "class")], why)
					continue
				}
				t.Errorf("stream at frame %s (%s:%s -> %s:%s): state %s, tshark class %s wants one of %v",
					first, row[col(h, "client")], row[col(h, "client_port")], row[col(h, "server")],
					row[col(h, "server_port")], got, row[col(h, "class")], want)
			}
		})
	}
}

// TestWorkersGiveTheSameOutput runs every public capture with one engine in the reading goroutine, then with
// 1 (pipelined), 2 and 3 workers: records and summary must be identical, in the same order.
func TestWorkersGiveTheSameOutput(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// The reference: one engine in the reading goroutine. One worker is pipelined on several cores.
			want := encode(t, analyzeSource(t, 1, true, path))
			for _, n := range []int{1, 2, 3} {
				if got := encode(t, analyzeWith(t, n, path)); got != want {
					t.Errorf("%d workers differ from one engine in the reading goroutine:\n%s", n, firstDiff(want, got))
				}
			}
		})
	}
}

func encode(t *testing.T, c *collector) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for i := range c.records {
		if err := enc.Encode(&c.records[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(c.summary); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  1: %s\n  n: %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}
