package analyze_test

import (
	"reflect"
	"testing"
)

// TestCaptureLoss: a side that ACKs bytes the capture never saw counts once per connection; a client that
// completes a handshake whose SYN-ACK the capture missed counts in missing_synack; neither counts in a clean
// capture (TestChecksumQuality's "clean" case) nor for a connection that began before the capture.
func TestCaptureLoss(t *testing.T) {
	req := "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"
	n := uint32(len(req))
	tests := []struct {
		name  string
		build func(c *qualityCapture)
		want  checksumQuality
	}{
		{"acked unseen", func(c *qualityCapture) {
			c.tcp(ownHost, remote, 50000, 80, syn, 100, 0, "", intact)
			c.tcp(remote, ownHost, 80, 50000, syn|ack, 900, 101, "", intact)
			c.tcp(ownHost, remote, 50000, 80, ack, 101, 901, "", intact)
			c.tcp(ownHost, remote, 50000, 80, psh|ack, 101, 901, req, intact)
			// the client's second segment, n bytes more, was not captured; the server ACKs both, twice
			c.tcp(remote, ownHost, 80, 50000, ack, 901, 101+2*n, "", intact)
			c.tcp(remote, ownHost, 80, 50000, ack, 901, 101+2*n, "", intact)
		}, checksumQuality{AckedUnseen: 1}},
		{"missing syn-ack", func(c *qualityCapture) {
			c.tcp(ownHost, remote, 50000, 80, syn, 100, 0, "", intact)
			c.tcp(ownHost, remote, 50000, 80, ack, 101, 901, "", intact)
			c.tcp(ownHost, remote, 50000, 80, psh|ack, 101, 901, req, intact)
			c.tcp(remote, ownHost, 80, 50000, ack, 901, 101+n, "", intact)
		}, checksumQuality{MissingSynAck: 1}},
		{"one-sided", func(c *qualityCapture) {
			for port := uint16(50000); port < 50003; port++ {
				c.tcp(ownHost, remote, port, 80, syn, 100, 0, "", intact)
				c.tcp(ownHost, remote, port, 80, ack, 101, 901, "", intact)
				c.tcp(ownHost, remote, port, 80, psh|ack, 101, 901, req, intact)
			}
		}, checksumQuality{MissingSynAck: 3}},
		{"mid-stream start", func(c *qualityCapture) {
			c.tcp(remote, ownHost, 80, 50000, ack, 5000, 7000, "", intact) // acks bytes sent before the capture
			c.tcp(ownHost, remote, 50000, 80, psh|ack, 7000, 5000, req, intact)
			c.tcp(remote, ownHost, 80, 50000, ack, 5000, 7000+n, "", intact)
		}, checksumQuality{}},
		{"retransmission is not loss", func(c *qualityCapture) {
			c.tcp(ownHost, remote, 50000, 80, syn, 100, 0, "", intact)
			c.tcp(remote, ownHost, 80, 50000, syn|ack, 900, 101, "", intact)
			c.tcp(ownHost, remote, 50000, 80, psh|ack, 101, 901, req, intact)
			c.tcp(ownHost, remote, 50000, 80, psh|ack, 101, 901, req, intact)
			c.tcp(remote, ownHost, 80, 50000, ack, 901, 101+n, "", intact)
			c.tcp(ownHost, remote, 50000, 80, fin|ack, 101+n, 901, "", intact)
			c.tcp(remote, ownHost, 80, 50000, fin|ack, 901, 102+n, "", intact)
			c.tcp(ownHost, remote, 50000, 80, ack, 102+n, 902, "", intact)
		}, checksumQuality{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &qualityCapture{pcapBuilder{t: t}}
			tc.build(c)
			path := c.write("loss.pcap")
			for _, workers := range []int{1, 3} {
				got := qualityOf(analyzeWith(t, workers, path).summary.Capture.Quality)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%d workers: got %+v, want %+v", workers, got, tc.want)
				}
			}
		})
	}
}
