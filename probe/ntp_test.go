package probe

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestNTPRequest(t *testing.T) {
	pkt, cookie := ntpRequest()
	if pkt[0] != 0x23 { // LI 0, version 4, mode 3 (client), as in every SNTP client request
		t.Errorf("first byte %#x, want 0x23", pkt[0])
	}
	if got := binary.BigEndian.Uint64(pkt[40:48]); got != cookie {
		t.Errorf("transmit timestamp %x, want the cookie %x", got, cookie)
	}
	for i, b := range pkt[1:40] {
		if b != 0 {
			t.Errorf("byte %d is %#x, want 0: a request says nothing about our clock", i+1, b)
		}
	}
	if _, again := ntpRequest(); again == cookie {
		t.Errorf("two requests share the cookie %x", cookie)
	}
}

// reply builds a server answer: first byte, stratum, reference id, origin timestamp.
func reply(first, stratum byte, refID string, origin uint64) []byte {
	b := make([]byte, 48)
	b[0], b[1] = first, stratum
	copy(b[12:16], refID)
	binary.BigEndian.PutUint64(b[24:32], origin)
	return b
}

func TestParseNTP(t *testing.T) {
	const cookie = 0x0123456789abcdef
	tests := []struct {
		name    string
		b       []byte
		stratum uint8
		kiss    string
		err     error
	}{
		{"answer", reply(0x24, 2, "GPS\x00", cookie), 2, "", nil},
		{"version 3 answer", reply(0x1c, 1, "", cookie), 1, "", nil},
		{"kiss of death", reply(0xe4, 0, "RATE", cookie), 0, "RATE", nil},
		{"short", reply(0x24, 2, "", cookie)[:47], 0, "", errNTPShort},
		{"client mode echoed", reply(0x23, 0, "", cookie), 0, "", errNTPMode},
		{"other request's answer", reply(0x24, 2, "", cookie+1), 0, "", errNTPOrigin},
		{"longer with extension", append(reply(0x24, 3, "", cookie), make([]byte, 20)...), 3, "", nil},
	}
	for _, tt := range tests {
		a, err := parseNTP(tt.b, cookie)
		if !errors.Is(err, tt.err) || err == nil && (a.Stratum != tt.stratum || a.KissCode != tt.kiss) {
			t.Errorf("%s: got %+v, %v; want stratum %d kiss %q, %v", tt.name, a, err, tt.stratum, tt.kiss, tt.err)
		}
	}
}

func FuzzParseNTP(f *testing.F) {
	f.Add(reply(0x24, 2, "GPS\x00", 7))
	f.Add(reply(0xe4, 0, "DENY", 7))
	f.Add([]byte{0x24})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseNTP(b, 7)
		if err == nil && (len(b) < 48 || b[0]&7 != 4 || len(a.KissCode) > 4) {
			t.Fatalf("accepted %x as %+v", b, a)
		}
	})
}
