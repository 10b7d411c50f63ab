package live

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The TPACKET_V3 ring's shape. A block must hold the largest packet (DefaultSnapLen and its header); the
// kernel hands over a block when it is full or afBlockTimeout after its first packet, whichever comes first.
const (
	afBlockSize    = 1 << 20
	afFrameSize    = 1 << 12 // only the block count matters for TPACKET_V3; this just has to divide a block
	afBlockTimeout = 8 * time.Millisecond
)

// afRing is an AF_PACKET socket with a TPACKET_V3 ring, read through gopacket/afpacket.
type afRing struct {
	tp      *afpacket.TPacket
	pending bool // data and ci hold a packet read while skipping what came before the filter
	data    []byte
	ci      gopacket.CaptureInfo
}

func openAFPacket(opts Options) (ring, layers.LinkType, error) {
	wrap := func(err error) error { return fmt.Errorf("open capture on %s: %w", opts.Interface, err) }
	if opts.Interface == "any" {
		return nil, 0, wrap(errors.New("AF_PACKET captures one interface at a time: -i any needs libpcap (--capture-method pcap, in the cgo build)"))
	}
	itf, err := net.InterfaceByName(opts.Interface)
	if err != nil {
		return nil, 0, wrap(errors.New("no such interface (intunecap interfaces lists them)"))
	}
	lt, err := afLinkType(itf.Name)
	if err != nil {
		return nil, 0, wrap(err)
	}
	prog, err := afFilter(opts, lt, itf.Flags&net.FlagLoopback != 0)
	if err != nil {
		return nil, 0, err
	}
	tp, err := afpacket.NewTPacket(afpacket.OptInterface(itf.Name), afpacket.TPacketVersion3,
		afpacket.OptBlockSize(afBlockSize), afpacket.OptFrameSize(afFrameSize),
		afpacket.OptNumBlocks(max(opts.BufferSize/afBlockSize, 2)), afpacket.OptBlockTimeout(afBlockTimeout),
		afpacket.OptPollTimeout(pollTimeout), afpacket.OptAddVLANHeader(true))
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return nil, 0, wrap(fmt.Errorf("%w (%v)", ErrPermission, err))
	}
	if err != nil {
		return nil, 0, wrap(fmt.Errorf("af_packet ring of %d MiB: %w", opts.BufferSize>>20, err))
	}
	r := &afRing{tp: tp}
	if err := r.setup(opts, prog); err != nil {
		tp.Close()
		return nil, 0, wrap(err)
	}
	return r, lt, nil
}

// setup attaches the filter and the promiscuous mode, then skips what reached the ring before the filter:
// the socket captures from the moment it is bound, unfiltered and whole.
func (r *afRing) setup(opts Options, prog []bpf.RawInstruction) error {
	if err := r.tp.SetBPF(prog); err != nil {
		return fmt.Errorf("attach the filter: %w", err)
	}
	if opts.Promisc {
		if err := r.tp.SetPromiscuous(true); err != nil {
			return fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	return r.skipBefore(time.Now())
}

// skipBefore reads and drops the packets received before t, keeping the first later one for read.
func (r *afRing) skipBefore(t time.Time) error {
	for {
		data, ci, err := r.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			return nil
		}
		if err != nil {
			return err
		}
		if !ci.Timestamp.Before(t) {
			r.pending, r.data, r.ci = true, data, ci
			return nil
		}
	}
}

func (r *afRing) read() ([]byte, gopacket.CaptureInfo, error) {
	if r.pending {
		r.pending = false
		return r.data, r.ci, nil
	}
	data, ci, err := r.tp.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return nil, ci, errTimeout
	}
	return data, ci, err
}

func (r *afRing) stats() (Stats, error) {
	_, v3, err := r.tp.SocketStats()
	if err != nil {
		return Stats{}, err
	}
	return Stats{Received: uint64(v3.Packets()), Dropped: uint64(v3.Drops()), Freezes: uint64(v3.QueueFreezes())}, nil
}

func (r *afRing) close() { r.tp.Close() }

// afLinkType is the link type of an interface as AF_PACKET delivers its frames (SOCK_RAW): its ARPHRD type
// (SIOCGIFHWADDR, asked in the calling thread's network namespace) mapped as libpcap maps it.
func afLinkType(name string) (layers.LinkType, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("interface type: %w", err)
	}
	defer unix.Close(fd)
	req, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("interface type: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, req); err != nil {
		return 0, fmt.Errorf("interface type: %w", err)
	}
	switch arphrd := req.Uint16(); arphrd { // sa_family of the hardware address
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet, nil
	case unix.ARPHRD_NONE: // tun devices: bare IP packets
		return layers.LinkTypeRaw, nil
	default:
		return 0, fmt.Errorf("AF_PACKET capture reads Ethernet, loopback and tun interfaces, not ARPHRD type %d: "+
			"use --capture-method pcap", arphrd)
	}
}

// Classic BPF for the socket filter: the packet type, as an ancillary load, and the verdicts.
const (
	bpfLoadPktType = uint32(0xfffff000 + 4) // SKF_AD_OFF + SKF_AD_PKTTYPE
	opLdWAbs       = 0x20                   // BPF_LD | BPF_W | BPF_ABS
	opJeqK         = 0x15                   // BPF_JMP | BPF_JEQ | BPF_K
	opRetK         = 0x06                   // BPF_RET | BPF_K
	packetOutgoing = 4                      // PACKET_OUTGOING
)

// afFilter is the socket filter: the compiled --bpf expression, or "keep snapLen bytes of every packet".
// Its return value is the snapshot length, as with libpcap. On a loopback interface it first drops the
// outgoing copy of each packet, which AF_PACKET delivers besides the incoming one (libpcap does the same).
func afFilter(opts Options, lt layers.LinkType, loopback bool) ([]bpf.RawInstruction, error) {
	prog := []bpf.RawInstruction{{Op: opRetK, K: uint32(opts.SnapLen)}}
	if opts.BPF != "" {
		var err error
		if prog, err = compileBPF(opts.BPF, lt, opts.SnapLen); err != nil {
			return nil, err
		}
	}
	if loopback {
		prog = append([]bpf.RawInstruction{
			{Op: opLdWAbs, K: bpfLoadPktType},
			{Op: opJeqK, K: packetOutgoing, Jt: 0, Jf: 1},
			{Op: opRetK, K: 0},
		}, prog...)
	}
	return prog, nil
}
