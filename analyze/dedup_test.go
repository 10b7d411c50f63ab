package analyze

import (
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
)

func TestSegmentDuplicates(t *testing.T) {
	base := decode.Packet{IPProto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x18, Seq: 1, Ack: 1,
		Payload: []byte("hello"), PayloadWireLen: 5, IPID: 7, HasIPID: true}
	other := func(f func(p *decode.Packet)) decode.Packet { p := base; f(&p); return p }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		name       string
		p          decode.Packet
		fromClient bool
		after      time.Duration
		dup        bool
	}{
		{"same packet 1 µs later", base, true, time.Microsecond, true},
		{"same packet 3 ms later: a retransmission", base, true, 3 * time.Millisecond, false},
		{"new IP id: a retransmission", other(func(p *decode.Packet) { p.IPID = 8 }), true, time.Microsecond, false},
		{"next segment", other(func(p *decode.Packet) { p.Seq = 6 }), true, time.Microsecond, false},
		{"other direction", base, false, time.Microsecond, false},
		{"other flags", other(func(p *decode.Packet) { p.TCPFlags = 0x11 }), true, time.Microsecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := sigOf(&base, true, t0)
			if got := sigOf(&tt.p, tt.fromClient, t0+int64(tt.after)).duplicates(prev); got != tt.dup {
				t.Errorf("duplicates = %v, want %v", got, tt.dup)
			}
		})
	}
	if sigOf(&base, true, t0).duplicates(segmentSig{}) {
		t.Error("the first segment of a connection taken for a duplicate")
	}
}
