package quic

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze/tlshello"
)

// readHex reads a testdata file of hex lines; lines starting with # are comments, spaces are ignored.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "#") {
			sb.WriteString(strings.ReplaceAll(l, " ", ""))
		}
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rfcDCID = []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}

// TestInitialKeys checks key derivation against the published intermediate values: RFC 9001 A.1 (v1), RFC 9369
// A.1 (v2) and draft-ietf-quic-tls-29 A.1.
func TestInitialKeys(t *testing.T) {
	tests := []struct {
		version                       Version
		clientKey, clientIV, clientHP string
		serverKey, serverIV, serverHP string
	}{
		{Version1, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2",
			"cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		{Version2, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9",
			"82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
		{VersionDraft29, "175257a31eb09dea9366d8bb79ad80ba", "6b26114b9cba2b63a9e8dd4f", "9ddd12c994c0698b89374a9c077a3077",
			"149d0b1662ab871fbe63c49b5e655a5d", "bab2b12a4c76016ace47856d", "c0c499a65a60024a18a250974ea01dfa"},
	}
	for _, tt := range tests {
		t.Run(tt.version.String(), func(t *testing.T) {
			c, err := initialKeys(tt.version.params(), rfcDCID, clientIn)
			if err != nil {
				t.Fatal(err)
			}
			s, err := initialKeys(tt.version.params(), rfcDCID, serverIn)
			if err != nil {
				t.Fatal(err)
			}
			check := func(name string, k keys, key, iv, hp string) {
				// The AEAD and hp block keep their keys private: check them by what they compute.
				want := mustKeys(t, key, iv, hp)
				if k.iv != want.iv {
					t.Errorf("%s iv = %x, want %s", name, k.iv, iv)
				}
				var in, got, exp [16]byte
				k.hp.Encrypt(got[:], in[:])
				want.hp.Encrypt(exp[:], in[:])
				if got != exp {
					t.Errorf("%s hp key differs from %s", name, hp)
				}
				sealed := k.aead.Seal(nil, make([]byte, 12), []byte("x"), nil)
				if !bytes.Equal(sealed, want.aead.Seal(nil, make([]byte, 12), []byte("x"), nil)) {
					t.Errorf("%s key differs from %s", name, key)
				}
			}
			check("client", c, tt.clientKey, tt.clientIV, tt.clientHP)
			check("server", s, tt.serverKey, tt.serverIV, tt.serverHP)
		})
	}
}

// TestExpandLabelInfo checks HKDF-Expand-Label's encoding through a secret RFC 9001 A.1 prints.
func TestExpandLabelInfo(t *testing.T) {
	secret := unhex(t, "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44")
	got, err := expandLabel(secret, "client in", 32)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"); !bytes.Equal(got, want) {
		t.Errorf("client_initial_secret = %x, want %x", got, want)
	}
}

// TestVectorsClientInitial decrypts the protected client Initial of each document into its ClientHello.
func TestVectorsClientInitial(t *testing.T) {
	crypto := readHex(t, "rfc9001-client-crypto.hex")
	wantHello := crypto[4:] // CRYPTO frame: type 06, offset 00, length 40f1
	// The drafts carried the transport parameters in extension 0xffa5, not RFC 9001's 0x0039.
	draftHello := bytes.Replace(wantHello, unhex(t, "001c000240010039"), unhex(t, "001c00024001ffa5"), 1)
	tests := []struct {
		file    string
		version Version
		hello   []byte
	}{
		{"rfc9001-client-initial.hex", Version1, wantHello},
		{"rfc9369-client-initial.hex", Version2, wantHello},
		{"draft-client-initial.hex", 0xff00001f, draftHello},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var f Flow
			if st := f.Client(readHex(t, tt.file)); st != Complete {
				t.Fatalf("status %v (%v)", st, f.Err())
			}
			if f.Version() != tt.version || f.Initials() != 1 || f.largest != 2 || f.Conflict() {
				t.Errorf("version %v initials %d pn %d conflict %v", f.Version(), f.Initials(), f.largest, f.Conflict())
			}
			if !bytes.Equal(f.ClientHello(), tt.hello) {
				t.Errorf("hello %x\nwant %x", f.ClientHello(), tt.hello)
			}
			rec, err := f.TLSRecord()
			if err != nil {
				t.Fatal(err)
			}
			var h tlshello.Hello
			st, _, err := tlshello.Parse(rec, &h)
			if st != tlshello.Complete || err != nil || h.SNI != "example.com" || !h.SNIValid {
				t.Errorf("tlshello: %v %v %q", st, err, h.SNI)
			}
		})
	}
}

// TestVectorsServerInitial gives the client and then the server Initial of each RFC: the server's decrypts
// with the server keys and answers the flow.
func TestVectorsServerInitial(t *testing.T) {
	for _, v := range []string{"rfc9001", "rfc9369"} {
		t.Run(v, func(t *testing.T) {
			var f Flow
			f.Client(readHex(t, v+"-client-initial.hex"))
			// The RFC client Initial has an empty Source Connection ID, and the server Initial is addressed to it.
			f.Server(readHex(t, v+"-server-initial.hex"))
			r := f.Reply()
			if !r.Initial || !r.Answered() || r.Closed || r.Handshake || r.Retry || r.VersionNegotiation {
				t.Errorf("reply %+v", r)
			}
			if f.serverLargest != 1 {
				t.Errorf("server packet number %d, want 1", f.serverLargest)
			}
		})
	}
}

// TestVectorsServerPayload opens the server Initial and compares its plaintext with RFC 9001 A.3.
func TestVectorsServerPayload(t *testing.T) {
	want := readHex(t, "rfc9001-server-payload.hex")
	for _, tt := range []struct {
		file    string
		version Version
	}{{"rfc9001-server-initial.hex", Version1}, {"rfc9369-server-initial.hex", Version2}} {
		pkt := readHex(t, tt.file)
		h, err := parseLongHeader(pkt)
		if err != nil || h.typ != typeInitial || h.version != tt.version || h.end != len(pkt) {
			t.Fatalf("%s: header %+v, %v", tt.file, h, err)
		}
		s, _ := initialKeys(tt.version.params(), rfcDCID, serverIn)
		var sc scratch
		got, pn, err := s.open(&sc, pkt, h.pnOffset, -1)
		if err != nil || pn != 1 || !bytes.Equal(got, want) {
			t.Errorf("%s: pn %d err %v\n got %x\nwant %x", tt.file, pn, err, got, want)
		}
	}
}

// TestHeaderProtectionMask checks the mask of RFC 9001 A.2 and RFC 9369 A.2 from their sample and hp key.
func TestHeaderProtectionMask(t *testing.T) {
	for _, tt := range []struct{ hp, sample, mask string }{
		{"9f50449e04a0e810283a1e9933adedd2", "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"},
		{"45b95e15235d6f45a6b19cbcb0294ba9", "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80"},
	} {
		k := mustKeys(t, "00000000000000000000000000000000", "000000000000000000000000", tt.hp)
		var mask [16]byte
		k.hp.Encrypt(mask[:], unhex(t, tt.sample))
		if got := hex.EncodeToString(mask[:5]); got != tt.mask {
			t.Errorf("hp %s: mask %s, want %s", tt.hp, got, tt.mask)
		}
	}
}

// TestSealMatchesVectors holds the tests' packet builder to the RFC: sealing the published payload gives the
// published packet, byte for byte.
func TestSealMatchesVectors(t *testing.T) {
	crypto := readHex(t, "rfc9001-client-crypto.hex")
	server := readHex(t, "rfc9001-server-payload.hex")
	scid := unhex(t, "f067a5502a4262b5")
	for _, tt := range []struct {
		version      Version
		client, serv string
	}{{Version1, "rfc9001-client-initial.hex", "rfc9001-server-initial.hex"}, {Version2, "rfc9369-client-initial.hex", "rfc9369-server-initial.hex"}} {
		got := seal(t, packet{version: tt.version, dcid: rfcDCID, pn: 2, frames: crypto, padTo: 1162})
		if want := readHex(t, tt.client); !bytes.Equal(got, want) {
			t.Errorf("%v client: sealed\n%x\nwant\n%x", tt.version, got, want)
		}
		got = seal(t, packet{version: tt.version, scid: scid, pn: 1, pnLen: 2, frames: server, server: true, keyDCID: rfcDCID})
		if want := readHex(t, tt.serv); !bytes.Equal(got, want) {
			t.Errorf("%v server: sealed\n%x\nwant\n%x", tt.version, got, want)
		}
	}
}
