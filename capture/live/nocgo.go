//go:build !cgo

package live

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/capture"
)

// Handle is an open live capture; without cgo none can be opened.
type Handle struct{}

// Open fails: this build has no libpcap.
func Open(opts Options) (*Handle, error) {
	return nil, fmt.Errorf("open capture on %s: %w", opts.Interface, ErrNoLibpcap)
}

// Next is never reached: Open always fails without cgo.
func (h *Handle) Next() (capture.Frame, error) { return capture.Frame{}, ErrNoLibpcap }

// LinkType is never reached: Open always fails without cgo.
func (h *Handle) LinkType() layers.LinkType { return layers.LinkTypeNull }

// SnapLen is never reached: Open always fails without cgo.
func (h *Handle) SnapLen() int { return 0 }

// Name is never reached: Open always fails without cgo.
func (h *Handle) Name() string { return "" }

// Stats is never reached: Open always fails without cgo.
func (h *Handle) Stats() (Stats, error) { return Stats{}, ErrNoLibpcap }

// Close does nothing without cgo.
func (h *Handle) Close() {}

// Interfaces fails: this build has no libpcap.
func Interfaces() ([]Interface, error) { return nil, fmt.Errorf("list interfaces: %w", ErrNoLibpcap) }
