package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

func mustKeys(t testing.TB, key, iv, hp string) keys {
	t.Helper()
	var k keys
	block, err := aes.NewCipher(unhex(t, key))
	if err != nil {
		t.Fatal(err)
	}
	k.aead, _ = cipher.NewGCM(block)
	k.hp, err = aes.NewCipher(unhex(t, hp))
	if err != nil {
		t.Fatal(err)
	}
	copy(k.iv[:], unhex(t, iv))
	return k
}

// packet describes a long-header packet for seal to build and protect, the way a client or server would.
type packet struct {
	version    Version
	typ        packetType // typeInitial (default), typeZeroRTT or typeHandshake
	dcid, scid []byte
	token      []byte
	pn         uint64
	pnLen      int // 1-4; 4 when 0
	frames     []byte
	padTo      int    // PADDING frames appended up to this many frame bytes
	server     bool   // protect with the server's keys
	keyDCID    []byte // the connection ID the keys derive from; dcid when nil
}

// seal builds and protects p (RFC 9001 5.3, 5.4): the reverse of keys.open, checked against the RFC vectors
// by TestSealMatchesVectors.
func seal(t testing.TB, p packet) []byte {
	t.Helper()
	if p.pnLen == 0 {
		p.pnLen = 4
	}
	if p.keyDCID == nil {
		p.keyDCID = p.dcid
	}
	params := p.version.params()
	frames := append([]byte(nil), p.frames...)
	for len(frames) < p.padTo {
		frames = append(frames, 0)
	}
	typ := map[packetType]byte{typeInitial: params.initial, typeZeroRTT: params.zeroRTT, typeHandshake: params.handshake}[p.typ]
	if p.typ == typeUnknown {
		typ = params.initial
	}
	hdr := []byte{0xc0 | typ<<4 | byte(p.pnLen-1), byte(p.version >> 24), byte(p.version >> 16), byte(p.version >> 8), byte(p.version)}
	hdr = append(hdr, byte(len(p.dcid)))
	hdr = append(hdr, p.dcid...)
	hdr = append(hdr, byte(len(p.scid)))
	hdr = append(hdr, p.scid...)
	if p.typ == typeInitial || p.typ == typeUnknown {
		hdr = appendVarint(hdr, uint64(len(p.token)))
		hdr = append(hdr, p.token...)
	}
	length := p.pnLen + len(frames) + tagLen
	if length < 1<<14 {
		hdr = append(hdr, 0x40|byte(length>>8), byte(length)) // the 2-byte varint even when 1 would do, as the RFC samples
	} else {
		hdr = appendVarint(hdr, uint64(length))
	}
	pnOffset := len(hdr)
	for i := p.pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(p.pn>>(8*i)))
	}
	dir := clientIn
	if p.server {
		dir = serverIn
	}
	k, err := initialKeys(params, p.keyDCID, dir)
	if err != nil {
		t.Fatal(err)
	}
	nonce := k.iv
	for i := range 8 {
		nonce[ivLen-1-i] ^= byte(p.pn >> (8 * i))
	}
	pkt := k.aead.Seal(hdr, nonce[:], frames, hdr)
	var mask [16]byte
	k.hp.Encrypt(mask[:], pkt[pnOffset+4:pnOffset+4+16])
	pkt[0] ^= mask[0] & 0x0f
	for i := range p.pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
	}
	return pkt
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// cryptoFrame is a CRYPTO frame carrying data at off.
func cryptoFrame(off int, data []byte) []byte {
	b := appendVarint([]byte{frameCrypto}, uint64(off))
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// testHello is a ClientHello handshake message for a name, made by crypto/tls through tlshello's way of
// building one: a real Go client's hello is too long to keep readable here, so a minimal valid one is built.
func testHello(name string, size int) []byte {
	// legacy_version, random, empty session id, one suite, null compression.
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, 0, 2, 0x13, 0x01, 1, 0)
	sni := []byte{0, 0} // extension server_name
	entry := append([]byte{0, byte(len(name) >> 8), byte(len(name))}, name...)
	list := append([]byte{byte(len(entry) >> 8), byte(len(entry))}, entry...)
	sni = append(sni, byte(len(list)>>8), byte(len(list)))
	sni = append(sni, list...)
	exts := sni
	if pad := size - (len(body) + 2 + len(exts) + 4 + 4); pad > 0 { // padding extension (21) to reach size
		exts = append(exts, 0, 21, byte(pad>>8), byte(pad))
		exts = append(exts, make([]byte, pad)...)
	}
	body = append(body, byte(len(exts)>>8), byte(len(exts)))
	body = append(body, exts...)
	return append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}
