//go:build !linux

package live

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// defaultMethod outside Linux is libpcap, the only method there.
const defaultMethod = MethodPcap

func openAFPacket(opts Options) (ring, layers.LinkType, error) {
	return nil, 0, fmt.Errorf("open capture on %s with AF_PACKET: %w", opts.Interface, ErrNoCapture)
}
