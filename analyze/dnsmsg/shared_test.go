package dnsmsg

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tsvRows reads one of expected/<capture>.<kind>.tsv into maps keyed by the header names.
func tsvRows(t testing.TB, path string) []map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	head := strings.Split(lines[0], "\t")
	var rows []map[string]string
	for _, l := range lines[1:] {
		row := map[string]string{}
		for i, v := range strings.Split(l, "\t") {
			if i < len(head) {
				row[head[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// dnsFrame is what tshark prints for one frame, rebuilt from our parse: fields joined with "," per message.
type dnsFrame struct {
	id, response, qname, qtype, rcode []string
	a, aaaa, cname                    []string
	partial, messages                 int
}

func (f *dnsFrame) add(m *Message) {
	f.messages++
	f.id = append(f.id, fmt.Sprintf("0x%04x", m.ID))
	f.response = append(f.response, map[bool]string{true: "1", false: "0"}[m.Response])
	for _, q := range m.Questions {
		f.qname = append(f.qname, q.Name)
		f.qtype = append(f.qtype, fmt.Sprint(q.Type))
	}
	if m.Response { // tshark prints the rcode of responses only
		f.rcode = append(f.rcode, fmt.Sprint(m.Rcode&0xf))
	}
	for _, a := range m.Answers {
		switch a.Type {
		case TypeA:
			f.a = append(f.a, a.Addr.String())
		case TypeAAAA:
			f.aaaa = append(f.aaaa, a.Addr.String())
		case TypeCNAME:
			f.cname = append(f.cname, a.Target)
		}
	}
	if m.Partial {
		f.partial++
	}
}

// parseCapture parses every port-53 DNS message of a capture, UDP datagrams and DNS-over-TCP streams, and
// files each under the frame that completed it, as tshark does.
func parseCapture(t *testing.T, path string) map[int]*dnsFrame {
	segs := readSegments(t, path)
	got := map[int]*dnsFrame{}
	frame := func(n int) *dnsFrame {
		if got[n] == nil {
			got[n] = &dnsFrame{}
		}
		return got[n]
	}
	var m Message
	for _, s := range segs {
		if s.tcp || len(s.payload) == 0 || (s.src.Port() != 53 && s.dst.Port() != 53) {
			continue
		}
		if err := m.Parse(s.payload); err != nil {
			t.Logf("frame %d: %v", s.frame, err)
		}
		frame(s.frame).add(&m)
	}
	for _, st := range tcpStreams(segs) {
		if st.src.Port() != 53 && st.dst.Port() != 53 {
			continue
		}
		var ds Stream
		ds.Write(st.data)
		for consumed := 0; ; {
			msg, ok := ds.Next()
			if !ok {
				break
			}
			consumed += 2 + len(msg)
			if err := m.Parse(msg); err != nil {
				t.Logf("tcp %v: %v", st.src, err)
			}
			frame(st.frames[consumed-1]).add(&m)
		}
	}
	return got
}

// dnsKnownDifferences lists where this test and tshark deliberately disagree, per capture and frame.
var dnsKnownDifferences = map[string]string{
	"ndpi-dns-snaplen-truncated.pcap#58": "2-byte payload: we keep the ID as a Partial message, tshark shows no DNS",
	"ndpi-dns-snaplen-truncated.pcap#59": "1-byte payload: we report a Partial message, tshark shows no DNS",
}

// TestSharedCapturesDNS compares, frame by frame, the DNS messages parsed from every shared capture with
// tshark 4.0.17's extraction in expected/<capture>.dns.tsv.
func TestSharedCapturesDNS(t *testing.T) {
	dir := sharedPcaps(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			got := parseCapture(t, path)
			want := map[int]map[string]string{}
			for _, row := range tsvRows(t, filepath.Join(dir, "expected", base+".dns.tsv")) {
				if row["_ws.col.Protocol"] == "DNS" {
					var n int
					fmt.Sscan(row["frame.number"], &n)
					want[n] = row
				}
			}
			compareFrames(t, base, got, want)
		})
	}
}

func compareFrames(t *testing.T, base string, got map[int]*dnsFrame, want map[int]map[string]string) {
	for n, row := range want {
		if reason, ok := dnsKnownDifferences[fmt.Sprintf("%s#%d", base, n)]; ok {
			t.Logf("frame %d: known difference: %s", n, reason)
			continue
		}
		f := got[n]
		if f == nil {
			t.Errorf("frame %d: tshark has a DNS message (%s), we have none", n, row["dns.qry.name"])
			continue
		}
		check := func(field string, ours []string) {
			if theirs := row[field]; theirs != strings.Join(ours, ",") {
				t.Errorf("frame %d %s: ours %q, tshark %q", n, field, strings.Join(ours, ","), theirs)
			}
		}
		check("dns.id", f.id)
		check("dns.flags.response", f.response)
		check("dns.qry.name", f.qname)
		check("dns.qry.type", f.qtype)
		check("dns.flags.rcode", f.rcode)
		contained := func(field string, ours []string) {
			theirs := split(row[field])
			for _, v := range ours {
				if !slices.Contains(theirs, v) {
					t.Errorf("frame %d %s: ours %q not in tshark %q", n, field, v, row[field])
				}
			}
			if f.messages == 1 && f.partial == 0 && len(theirs) >= len(ours) && !slices.Equal(theirs[:len(ours)], ours) {
				t.Errorf("frame %d %s: ours %q not a prefix of tshark %q", n, field, ours, row[field])
			}
		}
		contained("dns.a", f.a)
		contained("dns.aaaa", f.aaaa)
		contained("dns.cname", f.cname)
	}
	for n := range got {
		if _, known := dnsKnownDifferences[fmt.Sprintf("%s#%d", base, n)]; known {
			continue
		}
		if _, ok := want[n]; !ok {
			t.Errorf("frame %d: we have a DNS message (%v), tshark has none", n, got[n].qname)
		}
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
