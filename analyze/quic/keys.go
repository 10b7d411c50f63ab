package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	sampleLen = 16 // RFC 9001 5.4.2: header protection samples 16 bytes of ciphertext
	maxPNLen  = 4
	tagLen    = 16 // AEAD_AES_128_GCM
	ivLen     = 12
)

// keys protect one direction of the Initial packet number space (RFC 9001 5).
type keys struct {
	aead cipher.AEAD
	hp   cipher.Block
	iv   [ivLen]byte
}

// The labels of the two directions' Initial secrets (RFC 9001 5.2).
const (
	clientIn = "client in"
	serverIn = "server in"
)

// initialKeys derives one direction's Initial keys from the Destination Connection ID of the client's first
// Initial (RFC 9001 5.2; RFC 9369 3.3 for v2's salt and labels). dir is clientIn or serverIn.
func initialKeys(p *versionParams, dcid []byte, dir string) (keys, error) {
	secret, err := hkdf.Extract(sha256.New, dcid, p.salt[:])
	if err != nil {
		return keys{}, err
	}
	return directionKeys(p, secret, dir)
}

func directionKeys(p *versionParams, initialSecret []byte, label string) (keys, error) {
	var k keys
	secret, err := expandLabel(initialSecret, label, sha256.Size)
	if err != nil {
		return k, err
	}
	key, err := expandLabel(secret, p.keyLabel, 16)
	if err != nil {
		return k, err
	}
	iv, err := expandLabel(secret, p.ivLabel, ivLen)
	if err != nil {
		return k, err
	}
	hp, err := expandLabel(secret, p.hpLabel, 16)
	if err != nil {
		return k, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return k, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return k, err
	}
	if k.hp, err = aes.NewCipher(hp); err != nil {
		return k, err
	}
	copy(k.iv[:], iv)
	return k, nil
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context (RFC 8446 7.1).
func expandLabel(secret []byte, label string, length int) ([]byte, error) {
	var info [2 + 1 + 255 + 1]byte
	binary.BigEndian.PutUint16(info[:], uint16(length))
	n := copy(info[3:], "tls13 ")
	n += copy(info[3+n:], label)
	info[2] = byte(n)
	return hkdf.Expand(sha256.New, secret, string(info[:3+n+1]), length)
}

var errAuth = errors.New("initial packet does not decrypt with the keys of its connection id")

// scratch is the working space for opening one packet: the protected bytes are copied in and decrypted in place,
// so the caller's datagram is never written to.
type scratch struct {
	buf   []byte
	mask  [aes.BlockSize]byte
	nonce [ivLen]byte
}

// open removes header protection from pkt (one whole long-header packet whose packet number starts at pnOffset)
// and decrypts it (RFC 9001 5.3, 5.4). largest is the largest packet number opened so far in this direction,
// -1 before the first. It returns the plaintext frames, which live in s.buf until the next open, and the
// packet number.
func (k *keys) open(s *scratch, pkt []byte, pnOffset int, largest int64) ([]byte, int64, error) {
	sampleAt := pnOffset + maxPNLen
	if sampleAt+sampleLen > len(pkt) {
		return nil, 0, fmt.Errorf("packet of %d bytes is too short for its header protection sample", len(pkt))
	}
	if len(pkt) > MaxPacket {
		return nil, 0, fmt.Errorf("initial packet of %d bytes, more than %d", len(pkt), MaxPacket)
	}
	k.hp.Encrypt(s.mask[:], pkt[sampleAt:sampleAt+sampleLen])
	b := append(s.buf[:0], pkt...)
	s.buf = b
	b[0] ^= s.mask[0] & 0x0f
	pnLen := int(b[0]&3) + 1
	var truncated uint64
	for i := range pnLen {
		b[pnOffset+i] ^= s.mask[1+i]
		truncated = truncated<<8 | uint64(b[pnOffset+i])
	}
	pn := decodePacketNumber(largest, truncated, pnLen)
	s.nonce = k.iv
	for i := range 8 {
		s.nonce[ivLen-1-i] ^= byte(uint64(pn) >> (8 * i))
	}
	hdrEnd := pnOffset + pnLen
	ct := b[hdrEnd:]
	plain, err := k.aead.Open(ct[:0], s.nonce[:], ct, b[:hdrEnd])
	if err != nil {
		return nil, 0, errAuth
	}
	return plain, pn, nil
}

// decodePacketNumber recovers a full packet number from its truncated encoding (RFC 9000 A.3).
func decodePacketNumber(largest int64, truncated uint64, pnLen int) int64 {
	expected := largest + 1
	win := int64(1) << (8 * pnLen)
	hwin := win / 2
	candidate := (expected &^ (win - 1)) | int64(truncated)
	switch {
	case candidate <= expected-hwin && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}
