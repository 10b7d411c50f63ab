//go:build linux && cgo

package live

import (
	"testing"

	"github.com/intunecap/intunecap/capture"
)

// TestLiveAFPacketMatchesPcap captures the same traffic with both methods, with and without a filter: AF_PACKET
// must give what libpcap gives (the reference), frame for frame.
func TestLiveAFPacketMatchesPcap(t *testing.T) {
	l := newLab(t)
	const filter = "udp dst port 7000"
	af := l.open(t, Options{Method: MethodAFPacket})
	// libpcap's ring in immediate mode (TPACKET_V2) has a slot per snaplen: at the default 256 KiB, 256 slots
	// in 64 MiB, which a loaded machine overruns. The frames are at most 1514 bytes, so 2048 loses nothing.
	pc := l.open(t, Options{Method: MethodPcap, SnapLen: 2048})
	afF := l.open(t, Options{Method: MethodAFPacket, BPF: filter})
	pcF := l.open(t, Options{Method: MethodPcap, BPF: filter, SnapLen: 2048})
	sent := labTraffic(3000)
	var kept [][]byte
	for i, f := range sent {
		if i%3 == 0 {
			kept = append(kept, f)
		}
	}
	type pair struct {
		name   string
		want   [][]byte
		af, pc func(*testing.T) []capture.Frame
	}
	pairs := []pair{{"unfiltered", sent, collect(af, len(sent)), collect(pc, len(sent))},
		{"filtered", kept, collect(afF, len(kept)), collect(pcF, len(kept))}}
	start, end := l.send(t, sent)
	for _, c := range pairs {
		gotAF, gotPC := c.af(t), c.pc(t)
		checkFrames(t, c.name, gotAF, c.want, DefaultSnapLen, start, end)
		checkFrames(t, c.name+" (libpcap)", gotPC, c.want, DefaultSnapLen, start, end)
		for i := range gotAF {
			if d := gotAF[i].Timestamp.Sub(gotPC[i].Timestamp).Abs(); d > 0 {
				t.Errorf("%s: frame %d: timestamp %v, libpcap's %v", c.name, i, gotAF[i].Timestamp, gotPC[i].Timestamp)
				break
			}
		}
	}
	if af.LinkType() != pc.LinkType() {
		t.Errorf("link type %v, libpcap's %v", af.LinkType(), pc.LinkType())
	}
	// The filter must keep the unmatched frames out of the ring, not just out of what is counted.
	st, err := afF.Stats()
	if err != nil || st.Received > uint64(len(sent)) {
		t.Errorf("filtered stats %+v, %v: at most %d frames reach the filtered socket", st, err, len(sent))
	}
}
