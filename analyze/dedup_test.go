package analyze

import (
	"net/netip"
	"testing"
	"time"

	"github.com/intunecap/intunecap/analyze/decode"
)

func TestDedup(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := decode.Packet{Src: netip.MustParseAddr("198.18.0.2"), Dst: netip.MustParseAddr("198.18.1.1"),
		IPProto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x18, Seq: 1, Ack: 1, Payload: []byte("hello"),
		PayloadWireLen: 5, IPID: 7, HasIPID: true}
	other := func(f func(p *decode.Packet)) decode.Packet { p := base; f(&p); return p }
	tests := []struct {
		name string
		p    decode.Packet
		at   time.Duration
		dup  bool
	}{
		{"same packet 1 µs later", base, time.Microsecond, true},
		{"same packet 3 ms later: a retransmission", base, 3 * time.Millisecond, false},
		{"new IP id: a retransmission", other(func(p *decode.Packet) { p.IPID = 8 }), time.Microsecond, false},
		{"other payload", other(func(p *decode.Packet) { p.Payload = []byte("jello") }), time.Microsecond, false},
		{"other VLAN: another link", other(func(p *decode.Packet) { p.VLAN[0] = 42 }), time.Microsecond, false},
		{"other direction", other(func(p *decode.Packet) { p.Src, p.Dst = p.Dst, p.Src }), time.Microsecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d dedup
			if d.seen(&base, t0) {
				t.Fatal("first packet taken for a duplicate")
			}
			if got := d.seen(&tt.p, t0.Add(tt.at)); got != tt.dup {
				t.Errorf("seen = %v, want %v", got, tt.dup)
			}
		})
	}
}
