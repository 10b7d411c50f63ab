package quic

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// splitDatagrams cuts fuzz input into datagrams, each prefixed by a 2-byte length; the rest is the last one.
func splitDatagrams(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= 2 && len(out) < 16 {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		if n > len(data) {
			break
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return append(out, data)
}

func joinDatagrams(ds ...[]byte) []byte {
	var b []byte
	for _, d := range ds {
		b = binary.BigEndian.AppendUint16(b, uint16(len(d)))
		b = append(b, d...)
	}
	return b
}

// checkFlow holds a flow to its documented invariants after any input.
func checkFlow(t *testing.T, f *Flow) {
	hello := f.ClientHello()
	if (hello != nil) != (f.Status() == Complete) {
		t.Fatalf("status %v with hello %d bytes", f.Status(), len(hello))
	}
	if hello != nil && (hello[0] != 1 || len(hello) != 4+int(hello[1])<<16+int(hello[2])<<8+int(hello[3])) {
		t.Fatalf("hello header %x does not frame %d bytes", hello[:4], len(hello))
	}
	if rec, err := f.TLSRecord(); err == nil && !bytes.Equal(rec[5:], hello) {
		t.Fatal("record does not hold the hello")
	}
	switch f.Status() {
	case NotQUIC, Malformed, TooLarge:
		if f.Err() == nil {
			t.Fatalf("status %v without a reason", f.Status())
		}
	}
	if f.examined > MaxInitials || f.serverSeen > MaxServerPackets || len(f.crypto.buf) > recordHeader+MaxCrypto ||
		cap(f.scratch.buf) > 2*MaxPacket {
		t.Fatalf("cap broken: examined %d server %d crypto %d scratch %d", f.examined, f.serverSeen, len(f.crypto.buf), cap(f.scratch.buf))
	}
}

// FuzzClientInitial feeds datagrams to the client side and then the server side of a flow. With sealed set, the
// input is instead taken as the plaintext frames of up to four Initials, which are protected with real keys
// first, so the fuzzer reaches the frame walker and the reassembly behind the AEAD.
func FuzzClientInitial(f *testing.F) {
	for _, name := range []string{"rfc9001-client-initial.hex", "rfc9369-client-initial.hex", "draft-client-initial.hex"} {
		pkt := readHex(f, name)
		f.Add(joinDatagrams(pkt, readHex(f, "rfc9001-server-initial.hex")), false)
		f.Add(pkt, false)
	}
	hello := testHello("fuzz.example", 2500)
	f.Add(joinDatagrams(cryptoFrame(1200, hello[1200:]), cryptoFrame(0, hello[:1200])), true)
	f.Add(joinDatagrams(append([]byte{frameACKECN, 1, 0, 1, 0, 0, 0, 1, 2, 3, framePing}, cryptoFrame(0, hello)...)), true)
	f.Add(joinDatagrams(cryptoFrame(0, hello[:100]), []byte{frameConnectionClose, 1, 2, 3, 'a', 'b', 'c'}), true)
	for _, d := range sharedInitials(f) {
		f.Add(d, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, sealed bool) {
		var fl Flow
		parts := splitDatagrams(data)
		if sealed {
			for i, frames := range parts[:min(len(parts), 4)] {
				fl.Client(seal(t, packet{version: Version1, dcid: testDCID, scid: testSCID, pn: uint64(i), frames: frames}))
				checkFlow(t, &fl)
			}
			return
		}
		for _, d := range parts {
			fl.Client(d)
			checkFlow(t, &fl)
		}
		for _, d := range parts {
			fl.Server(d)
			checkFlow(t, &fl)
		}
		fl.Reset()
		fl.Client(data)
		checkFlow(t, &fl)
	})
}

// sharedInitials returns the first client and server long-header datagrams of every UDP flow of the lab's QUIC
// captures (testdata/pcaps/quic-*.pcap) and, when INTUNECAP_SHARED_PCAPS names them, of the shared ones: real
// Initials as seeds.
func sharedInitials(f *testing.F) [][]byte {
	files, _ := filepath.Glob(filepath.Join(labDir, "quic-*.pcap"))
	if dir := os.Getenv("INTUNECAP_SHARED_PCAPS"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*quic*.pcap*"))
		files = append(files, more...)
	}
	var out [][]byte
	for _, path := range files {
		seen := map[string]int{}
		var flow []byte
		for _, s := range pcaptest.ReadSegments(f, path) {
			if s.TCP || len(s.Payload) == 0 || s.Payload[0]&headerForm == 0 {
				continue
			}
			if k := s.Src.String() + s.Dst.String(); seen[k] < 3 {
				seen[k]++
				flow = append(flow, joinDatagrams(s.Payload)...)
			}
		}
		out = append(out, flow)
	}
	return out
}

// FuzzAssemble adds pieces of a known stream, some of them altered, and compares the assembler with a byte
// map that keeps the first copy of every byte.
func FuzzAssemble(f *testing.F) {
	f.Add([]byte{0, 10, 0, 5, 0, 0, 0, 20, 0, 10, 0})
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 0, 0, 2, 0, 2, 1})
	f.Add(bytes.Repeat([]byte{0, 3, 0, 1, 0}, 70))
	f.Add([]byte{0xff, 0xff, 0, 10, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a assembler
		model := map[int]byte{}
		conflict := false
		// Each piece: 2-byte offset (scaled by 1, or by 16 past 0x8000 to reach the cap), 2-byte length
		// (mod 4096), 1 byte: alter the data when odd.
		for ; len(data) >= 5; data = data[5:] {
			off := int(binary.BigEndian.Uint16(data))
			if off >= 0x8000 {
				off = (off - 0x8000) * 16 % (MaxCrypto + 64)
			}
			n := int(binary.BigEndian.Uint16(data[2:])) % 4096
			piece := make([]byte, n)
			for i := range piece {
				piece[i] = byte(off + i)
				if data[4]&1 == 1 {
					piece[i] ^= data[4]
				}
			}
			err := a.add(uint64(off), piece)
			if off+n > MaxCrypto {
				if err != errCryptoCap {
					t.Fatalf("piece %d+%d past the cap: err %v", off, n, err)
				}
				continue
			}
			if err == errSpans {
				return // the assembler refuses further pieces; the model cannot follow it past here
			}
			if err != nil {
				t.Fatalf("piece %d+%d: %v", off, n, err)
			}
			for i, c := range piece {
				if old, ok := model[off+i]; ok {
					conflict = conflict || old != c
				} else {
					model[off+i] = c
				}
			}
		}
		if a.conflict != conflict {
			t.Fatalf("conflict %v, model %v", a.conflict, conflict)
		}
		held := 0
		for i := range a.n {
			s := a.spans[i]
			if s.start >= s.end || i > 0 && a.spans[i-1].end >= s.start {
				t.Fatalf("spans not sorted and apart: %v", a.spans[:a.n])
			}
			for p := s.start; p < s.end; p++ {
				c, ok := model[p]
				if !ok || a.buf[recordHeader+p] != c {
					t.Fatalf("byte %d: held %d, model %d (%v)", p, a.buf[recordHeader+p], c, ok)
				}
			}
			held += s.end - s.start
		}
		if held != len(model) {
			t.Fatalf("spans hold %d bytes, model %d", held, len(model))
		}
		if want := contiguousModel(model); a.contiguous() != want {
			t.Fatalf("contiguous %d, model %d", a.contiguous(), want)
		}
	})
}

func contiguousModel(m map[int]byte) int {
	n := 0
	for {
		if _, ok := m[n]; !ok {
			return n
		}
		n++
	}
}
