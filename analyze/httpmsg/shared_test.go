package httpmsg

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// httpKnownDifferences lists where this test and tshark deliberately disagree, per capture and frame.
var httpKnownDifferences = map[string]string{
	"zeek-http-to-ssh-port-nsec.pcap#4": "GET sent to port 22: tshark dissects SSH there, we parse the request on any port",
}

// TestSharedCapturesProxy checks the proxy captures the engine's connect and 407 logic relies on.
func TestSharedCapturesProxy(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	tests := []struct {
		file         string
		method, host string
		port         uint16
		status       int
	}{
		{"ndpi-http-connect-apache.pcap", "CONNECT", "apache.org", 443, 200},
		{"arkime-https-connect-http10-nohost.pcap", "CONNECT", "ts01-b.cloudsink.net", 443, 200},
		{"zeek-http-proxy-get.pcap", "GET", "bro.org", 80, 200},
		{"sv-http-407.pcap", "GET", "", 0, 407},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var gotReq, gotResp bool
			for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, filepath.Join(dir, tc.file))) {
				var req Request
				var resp Response
				if s, _ := ParseRequest(st.Data, &req); s == Complete && req.Method == tc.method {
					host, port := req.Host, req.HostPort
					if req.Method == "CONNECT" {
						host, port = req.ConnectHost, req.ConnectPort
					}
					gotReq = gotReq || tc.host == "" || host == tc.host && port == tc.port
				}
				if s, _ := ParseResponse(st.Data, &resp); s == Complete && resp.Status == tc.status {
					gotResp = true
				}
			}
			if !gotReq || !gotResp {
				t.Errorf("request found %v, status %d found %v", gotReq, tc.status, gotResp)
			}
		})
	}
}

// TestSharedCapturesHTTP parses the request at the start of every client stream and the status line at the
// start of every server stream of every shared capture, and compares them with tshark 4.0.17's extraction.
func TestSharedCapturesHTTP(t *testing.T) {
	dir := pcaptest.SharedDir(t)
	files := pcaptest.Captures(t, dir)
	requests, responses := 0, 0
	for _, path := range files {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			reqRows := map[int]map[string]string{}
			for _, row := range pcaptest.TSVRows(t, filepath.Join(dir, "expected", base+".http_req.tsv")) {
				var n int
				fmt.Sscan(row["frame.number"], &n)
				reqRows[n] = row
			}
			var codes []string
			for _, row := range pcaptest.TSVRows(t, filepath.Join(dir, "expected", base+".http_resp.tsv")) {
				codes = append(codes, pcaptest.SplitList(row["http.response.code"])...)
			}
			for _, st := range pcaptest.TCPStreams(pcaptest.ReadSegments(t, path)) {
				var req Request
				var resp Response
				if s, err := ParseRequest(st.Data, &req); s == Complete {
					requests++
					checkRequest(t, base, st.Frames[req.HeadLen-1], st.Src.Port(), &req, reqRows)
				} else if s == Malformed {
					t.Errorf("%v: %v", st.Src, err)
				}
				if s, err := ParseResponse(st.Data, &resp); s == Complete {
					responses++
					if !slices.Contains(codes, fmt.Sprint(resp.Status)) {
						// tshark reports a response once its body is complete; cut captures never get there.
						t.Logf("%v: status %d not among tshark's responses", st.Src, resp.Status)
					}
				} else if s == Malformed {
					t.Errorf("%v: %v", st.Src, err)
				}
			}
		})
	}
	t.Logf("%d requests and %d responses compared", requests, responses)
}

func checkRequest(t *testing.T, base string, frame int, port uint16, r *Request, rows map[int]map[string]string) {
	if reason, ok := httpKnownDifferences[fmt.Sprintf("%s#%d", base, frame)]; ok {
		t.Logf("frame %d: known difference: %s", frame, reason)
		return
	}
	row := findRequest(rows, frame, port, r)
	if row == nil {
		t.Errorf("frame %d: we have %s %s, tshark has no request", frame, r.Method, r.Target)
		return
	}
	host := row["http.host"]
	switch {
	case row["http.request.version"] != r.Version:
		t.Errorf("frame %d: version %q, tshark %q", frame, r.Version, row["http.request.version"])
	case r.AbsoluteURI:
		if !strings.Contains(r.Target, r.Host) {
			t.Errorf("frame %d: host %q not from the URI %q", frame, r.Host, r.Target)
		}
	case (host == "") != (r.Host == "") || !strings.Contains(host, r.Host) ||
		r.HostPort != 0 && !strings.HasSuffix(host, fmt.Sprintf(":%d", r.HostPort)):
		t.Errorf("frame %d: host %q port %d, tshark %q", frame, r.Host, r.HostPort, host)
	}
	if r.Method == "CONNECT" && (r.ConnectHost == "" || r.ConnectPort == 0) {
		t.Errorf("frame %d: CONNECT without a target: %+v", frame, *r)
	}
}

// findRequest finds tshark's row for our request: on the frame that ends the head, or for a request with a
// body on a later frame of the same client port (tshark waits for the body).
func findRequest(rows map[int]map[string]string, frame int, port uint16, r *Request) map[string]string {
	best := 0
	for n, row := range rows {
		if n >= frame && row["tcp.srcport"] == fmt.Sprint(port) && row["http.request.method"] == r.Method &&
			row["http.request.uri"] == r.Target && (best == 0 || n < best) {
			best = n
		}
	}
	return rows[best]
}
