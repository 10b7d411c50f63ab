package probe

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// ntpPacketLen is an NTPv4 header without extensions or MAC (RFC 5905 figure 8).
const ntpPacketLen = 48

// ntpRequest builds a client request (LI 0, version 4, mode 3) whose transmit timestamp is random rather
// than the clock, as RFC 9109's data-minimization advice has it; the server copies it into the answer's
// origin timestamp, which is how the answer is matched.
func ntpRequest() (pkt [ntpPacketLen]byte, cookie uint64) {
	var b [8]byte
	rand.Read(b[:])
	cookie = binary.BigEndian.Uint64(b[:])
	pkt[0] = 0<<6 | 4<<3 | 3
	binary.BigEndian.PutUint64(pkt[40:48], cookie)
	return pkt, cookie
}

// ntpAnswer is what a server's reply says.
type ntpAnswer struct {
	Stratum  uint8
	KissCode string // for stratum 0 (kiss-o'-death): "RATE", "DENY" ...
}

// Errors of a reply that is not an answer to our request.
var (
	errNTPShort  = errors.New("ntp reply shorter than 48 bytes")
	errNTPMode   = errors.New("ntp reply is not from a server (mode 4)")
	errNTPOrigin = errors.New("ntp reply's origin timestamp is not our request's")
)

// parseNTP checks a reply against the cookie of the request.
func parseNTP(b []byte, cookie uint64) (ntpAnswer, error) {
	if len(b) < ntpPacketLen {
		return ntpAnswer{}, errNTPShort
	}
	if mode := b[0] & 7; mode != 4 {
		return ntpAnswer{}, fmt.Errorf("%w: mode %d", errNTPMode, mode)
	}
	if binary.BigEndian.Uint64(b[24:32]) != cookie {
		return ntpAnswer{}, errNTPOrigin
	}
	a := ntpAnswer{Stratum: b[1]}
	if a.Stratum == 0 {
		a.KissCode = printableASCII(b[12:16])
	}
	return a, nil
}

func printableASCII(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		}
	}
	return string(out)
}
