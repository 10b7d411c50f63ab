package live

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/capture"
)

// pollTimeout bounds how long a read waits in the kernel: a partly filled batch goes out after it, and Close
// never waits longer on a quiet interface.
const pollTimeout = 20 * time.Millisecond

// maxBatchAge ends a batch whose first packet is this much older (in capture time) than its latest, so a
// slow trickle of packets reaches the analysis within tens of milliseconds.
const maxBatchAge = 20 * time.Millisecond

// errTimeout is a ring's read finding no packet within pollTimeout.
var errTimeout = errors.New("no packet within the poll timeout")

// ring is one capture method: AF_PACKET (afpacket_linux.go) or libpcap (pcap.go).
type ring interface {
	// read returns the next packet. Its bytes are valid until the next call to read or close; errTimeout
	// says none came within pollTimeout; io.EOF that the ring is closed.
	read() ([]byte, gopacket.CaptureInfo, error)
	stats() (Stats, error)
	close()
}

// Handle is an open live capture. ReadBatch or Next runs in one goroutine, while Stats and Close may be
// called from another. Packets are copied out of the kernel's ring before a read returns, so closing the
// ring under a reader never leaves it with freed bytes.
type Handle struct {
	ring     ring
	name     string
	method   Method
	linkType layers.LinkType
	snapLen  int
	frames   uint64
	one      *Batch // Next's batch of one

	closing atomic.Bool // Close was called: a waiting read gives up at its next timeout
	readMu  sync.Mutex  // held while reading a batch: Close waits for it before freeing the ring
	mu      sync.Mutex  // guards closed and final against Stats racing Close
	closed  bool
	final   Stats // the counters at Close: the kernel's are gone with the socket
}

// Open starts capturing on opts.Interface with opts.Method.
func Open(opts Options) (*Handle, error) {
	opts = opts.withDefaults()
	if opts.Interface == "" {
		return nil, errors.New("open capture: no interface given")
	}
	var (
		r   ring
		lt  layers.LinkType
		err error
	)
	switch opts.Method {
	case MethodAFPacket:
		r, lt, err = openAFPacket(opts)
	case MethodPcap:
		r, lt, opts.SnapLen, err = openPcap(opts)
	default:
		err = fmt.Errorf("unknown capture method %v", opts.Method)
	}
	if err != nil {
		return nil, err
	}
	return &Handle{ring: r, name: opts.Interface, method: opts.Method, linkType: lt, snapLen: opts.SnapLen,
		one: NewBatch(1, opts.SnapLen)}, nil
}

// ReadBatch reads packets into b, replacing what it held, and returns once b is full, once no packet came
// within a poll timeout after the first, or once the batch spans maxBatchAge of capture time. It waits for
// the first packet as long as it takes. The frames it read stay in b even when it returns an error: io.EOF
// after Close, or the read error that ends the capture.
func (h *Handle) ReadBatch(b *Batch) error {
	b.Reset()
	h.readMu.Lock()
	defer h.readMu.Unlock()
	if h.closed {
		return io.EOF
	}
	var first time.Time
	for !b.full() {
		if h.closing.Load() {
			if len(b.Frames) > 0 {
				return nil
			}
			return io.EOF
		}
		data, ci, err := h.ring.read()
		switch {
		case err == nil:
		case errors.Is(err, errTimeout):
			if len(b.Frames) > 0 {
				return nil
			}
			continue
		case errors.Is(err, io.EOF):
			return io.EOF
		default:
			return fmt.Errorf("read %s: %w", h.name, err)
		}
		if len(data) > h.snapLen { // a VLAN tag put back after the kernel cut the packet to the snap length
			data = data[:h.snapLen]
		}
		h.frames++
		b.add(data, capture.Frame{Timestamp: ci.Timestamp.UTC(), WireLen: ci.Length, LinkType: h.linkType,
			Number: h.frames})
		if len(b.Frames) == 1 {
			first = ci.Timestamp
		} else if ci.Timestamp.Sub(first) >= maxBatchAge {
			return nil
		}
	}
	return nil
}

// Next returns the next packet. Its Data is valid only until the next call: copy what you keep. After Close
// it returns io.EOF.
func (h *Handle) Next() (capture.Frame, error) {
	if err := h.ReadBatch(h.one); err != nil {
		return capture.Frame{}, err
	}
	return h.one.Frames[0], nil
}

// LinkType is the interface's link type, for the report and a pcapng header.
func (h *Handle) LinkType() layers.LinkType { return h.linkType }

// SnapLen is the snapshot length the capture really uses.
func (h *Handle) SnapLen() int { return h.snapLen }

// Name is the interface name.
func (h *Handle) Name() string { return h.name }

// Method is the capture method in use.
func (h *Handle) Method() Method { return h.method }

// Stats returns the kernel's counters since Open; after Close, the counters as they were then.
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return h.final, nil
	}
	st, err := h.ring.stats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture statistics on %s: %w", h.name, err)
	}
	return st, nil
}

// Close stops the capture; a read waiting in another goroutine returns io.EOF within a poll timeout.
// It is safe to call more than once.
func (h *Handle) Close() {
	h.closing.Store(true)
	h.readMu.Lock()
	defer h.readMu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.final, _ = h.ring.stats()
	h.closed = true
	h.ring.close()
}
