package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/intunecap/intunecap/capture"
)

// FuzzDecode decodes arbitrary bytes as a frame of a link type: no panic, and slices stay inside the frame.
func FuzzDecode(f *testing.F) {
	ip4 := v4(f, data(), hello)
	ip6 := v6(f, data(), hello)
	f.Add(uint16(layers.LinkTypeEthernet), ether(0x0800, ip4))
	f.Add(uint16(layers.LinkTypeEthernet), ether(0x88a8, cat(tag(10, 0x8100), tag(20, 0x8864), pppoe(0x0057, ip6))))
	f.Add(uint16(layers.LinkTypeLinuxSLL), sll(0x0800, ip4))
	f.Add(uint16(layers.LinkTypeLinuxSLL2), sll2(0x86dd, ip6))
	f.Add(uint16(layers.LinkTypeNull), cat(le32(2), ip4))
	f.Add(uint16(layers.LinkTypeRaw), withExt(ip6, hopByHop, routing, destOpts))
	f.Add(uint16(layers.LinkTypeRaw), withExt(ip6, []byte{44, 0, 0, 1, 0, 0, 0, 9}))
	f.Add(uint16(layers.LinkTypeRaw), ipv4Frags(v4(f, dnsUDP(), make([]byte, 100)), 48)[0])
	f.Add(uint16(239), nflog(2, ip4))
	for _, fr := range ipv6Frags(v6(f, dnsUDP(), make([]byte, 100)), 48, 3) {
		f.Add(uint16(layers.LinkTypeEthernet), ether(0x86dd, fr))
	}
	f.Add(uint16(layers.LinkTypeEthernet), ether(0x0800, icmpError4(f, 3, 13, v4(f, syn(), nil), 28)))
	f.Add(uint16(layers.LinkTypeEthernet), ether(0x86dd, icmpError6(f, 1, 1, withExt(v6(f, dnsUDP(), hello), routing), -1)))
	f.Add(uint16(layers.LinkTypeRaw), icmpError6(f, 3, 0, withExt(v6(f, syn(), nil), []byte{44, 0, 0, 0x10, 0, 0, 0, 9}), -1))
	eth4 := ethernetOf(f, ip4)
	f.Add(uint16(layers.LinkTypeEthernet), outer(f, false, layers.IPProtocolUDP, eth4, udpTo(4789),
		&layers.VXLAN{ValidIDFlag: true, VNI: 5}))
	f.Add(uint16(layers.LinkTypeEthernet), outer(f, true, layers.IPProtocolUDP, ip6, udpTo(6081),
		&layers.Geneve{Protocol: layers.EthernetTypeIPv6, VNI: 8}))
	f.Add(uint16(layers.LinkTypeEthernet), outer(f, false, layers.IPProtocolGRE, ip4,
		&layers.GRE{Protocol: layers.EthernetTypeIPv4, ChecksumPresent: true, KeyPresent: true, SeqPresent: true}))
	f.Add(uint16(layers.LinkTypeEthernet), outer(f, false, layers.IPProtocolGRE, eth4,
		&layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true}, &layers.ERSPANII{Version: 1, SessionID: 9}))
	f.Add(uint16(layers.LinkTypeEthernet), outer(f, false, layers.IPProtocolGRE, cat(erspan3Header(true), eth4),
		&layers.GRE{Protocol: 0x22eb, SeqPresent: true}))
	f.Add(uint16(layers.LinkTypeEthernet), ether(0x8847, cat([]byte{0, 1, 0, 64, 0, 2, 1, 64}, ip4)))
	f.Add(uint16(layers.LinkTypeEthernet), outer(f, false, layers.IPProtocolGRE,
		outer(f, true, layers.IPProtocolUDP, eth4, udpTo(4789), &layers.VXLAN{ValidIDFlag: true, VNI: 1}),
		&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}))
	addSharedFrames(f, 200)
	d := NewDecoder(Options{})
	f.Fuzz(func(t *testing.T, lt uint16, b []byte) {
		var p Packet
		fr := capture.Frame{Data: b, WireLen: len(b) + int(lt%3)*10, LinkType: layers.LinkType(lt),
			Timestamp: time.Unix(int64(len(b)), 0)}
		err := d.Decode(&fr, &p)
		if err == nil && len(p.Payload) > len(b) && !p.Fragment && p.PayloadWireLen < len(p.Payload) {
			t.Fatalf("payload %d bytes from a %d-byte frame, wire %d", len(p.Payload), len(b), p.PayloadWireLen)
		}
		if fr.LinkType == layers.LinkTypeEthernet {
			checkFastPath(t, d, fr)
		}
		if st := d.Stats(); st.FragmentsDropped != st.DroppedTimeout+st.DroppedAtCap+st.DroppedInvalid {
			t.Fatalf("fragment counters do not add up: %+v", st)
		}
		if p.Tunnel.Depth > maxTunnelDepth {
			t.Fatalf("tunnel depth %d", p.Tunnel.Depth)
		}
	})
}

// checkFastPath compares the fast path's answer for an Ethernet frame, where it gives one, with the layer
// parser's, and reports whether it gave one.
func checkFastPath(t testing.TB, d *Decoder, fr capture.Frame) bool {
	t.Helper()
	var fast, slow Packet
	ok, fastErr := d.decodeEthernetFast(fr.Data, &fast)
	if !ok {
		return false
	}
	slowErr := d.decodeLayers(&fr, &slow)
	if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) || errors.Is(fastErr, ErrMalformed) != errors.Is(slowErr, ErrMalformed) {
		t.Fatalf("% x: fast path error %v, layer parser %v", fr.Data, fastErr, slowErr)
	}
	if len(fast.Payload) != len(slow.Payload) || cap(fast.Payload) != cap(slow.Payload) ||
		(len(fast.Payload) > 0 && &fast.Payload[0] != &slow.Payload[0]) {
		t.Fatalf("% x: fast path payload %d/%d bytes, layer parser %d/%d", fr.Data, len(fast.Payload), cap(fast.Payload),
			len(slow.Payload), cap(slow.Payload))
	}
	fast.Payload, slow.Payload = nil, nil
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("% x: fast path\n%+v\nlayer parser\n%+v", fr.Data, fast, slow)
	}
	return true
}

// addSharedFrames seeds a fuzz target with the first frames of every public capture, when available.
func addSharedFrames(f *testing.F, perFile int) {
	dir := os.Getenv("INTUNECAP_SHARED_PCAPS")
	if dir == "" {
		f.Log("INTUNECAP_SHARED_PCAPS is not set: seeding without the shared public captures")
		return
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, name := range names {
		r, err := capture.Open([]string{name})
		if err != nil {
			continue
		}
		for i := 0; i < perFile; i++ {
			fr, err := r.Next()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			f.Add(uint16(fr.LinkType), append([]byte(nil), fr.Data...))
		}
		r.Close()
	}
}

// FuzzIPv6Defrag feeds the IPv6 reassembler a sequence of fragments read from the input, 5 bytes each: the
// datagram (one of 4), the offset in 8-byte units, the length with the M flag in its top bit, and the seconds
// since the previous fragment. Every fragment's bytes are a function of their position in the datagram, so a
// datagram that comes out must read the same; memory stays within the caps and the counters add up.
func FuzzIPv6Defrag(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0x80 | 48, 0, 0, 6, 0, 48, 0, 0, 12, 0, 12, 0})         // three in order
	f.Add([]byte{1, 0, 12, 0, 12, 0, 0, 0, 0x80 | 48, 0, 1, 0, 6, 0x80 | 48, 40}) // last first, late
	f.Add([]byte{2, 0, 0, 0x80 | 48, 0, 2, 0, 5, 0x80 | 48, 0, 2, 0, 6, 20, 0})   // overlap
	f.Fuzz(func(t *testing.T, ops []byte) {
		opts := Options{MaxFragmentBytes: 4096, MaxFragmentDatagrams: 3, FragmentTimeout: 30 * time.Second}
		df := defragmenter{opts: opts.withDefaults()}
		ts := time.Unix(1000, 0)
		for ; len(ops) >= 5; ops = ops[5:] {
			id := uint32(ops[0] % 4)
			off := int(binary.BigEndian.Uint16(ops[1:3])) * 8 % 70000
			more, n := ops[3]&0x80 != 0, int(ops[3]&0x7f)*8+int(ops[4]&7)
			ts = ts.Add(time.Duration(ops[4]>>3) * time.Second)
			data := make([]byte, n)
			for i := range data {
				data[i] = pattern(id, off+i)
			}
			whole, next, err := df.add6(frag6Key{id: id}, off, more, 17, data, ts)
			if err == nil && whole != nil {
				if len(whole) > maxIPv6Payload || next != 17 {
					t.Fatalf("datagram %d: %d bytes, next header %d", id, len(whole), next)
				}
				for i, b := range whole {
					if b != pattern(id, i) {
						t.Fatalf("datagram %d: byte %d is %d, want %d", id, i, b, pattern(id, i))
					}
				}
			}
			held := 0
			for _, dg := range df.held6 {
				held += dg.bytes
			}
			st := df.stats
			if held != df.bytes || df.bytes > opts.MaxFragmentBytes || len(df.held6) > opts.MaxFragmentDatagrams ||
				st.FragmentsDropped != st.DroppedTimeout+st.DroppedAtCap+st.DroppedInvalid {
				t.Fatalf("held %d bytes (counted %d) in %d datagrams; stats %+v", held, df.bytes, len(df.held6), st)
			}
		}
	})
}

func pattern(id uint32, pos int) byte { return byte(pos*7) ^ byte(id) }
