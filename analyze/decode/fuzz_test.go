package decode

import (
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
