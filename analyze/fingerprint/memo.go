package fingerprint

import "encoding/binary"

// Memo remembers the fingerprints of the hellos it was asked about, so that the many connections one TLS
// stack opens (a device's system library sends the same ClientHello layout every time, a server the same
// ServerHello) cost one computation, not one per connection. Its answers are those of JA4, JA3, JA4S and
// JA3S for the same facts, always: the key is every fact the fingerprints read, GREASE values left out (the
// fingerprints ignore them wherever they stand, so hellos that differ only in their GREASE share an entry).
//
// A Memo holds at most memoEntries answers of each kind and starts over when full; a hello whose key would be
// longer than maxMemoKey bytes is fingerprinted without it. The zero value is ready to use. It is not safe
// for concurrent use.
type Memo struct {
	key    []byte
	client map[string]ClientPrints
	server map[string]ServerPrints
}

// ClientPrints are the fingerprints of a ClientHello.
type ClientPrints struct {
	JA4 string // JA4 of the hello, "" for an unknown transport
	JA3 string // JA3 of the hello
}

// ServerPrints are the fingerprints of a ServerHello.
type ServerPrints struct {
	JA4S string // JA4S of the hello, "" for an unknown transport
	JA3S string // JA3S of the hello
}

const (
	// memoEntries bounds the answers a Memo keeps of each kind.
	memoEntries = 256
	// maxMemoKey bounds a key's bytes: about 250 values, where a browser's hello has about 60.
	maxMemoKey = 512
)

// Client returns the JA4 (over t) and JA3 fingerprints of c.
func (m *Memo) Client(c ClientFacts, t Transport) ClientPrints {
	key, ok := m.clientKey(c, t)
	if p, hit := m.client[string(key)]; ok && hit {
		return p
	}
	p := ClientPrints{JA4: JA4(c, t), JA3: JA3(c)}
	if ok {
		remember(&m.client, key, p)
	}
	return p
}

// Server returns the JA4S (over t) and JA3S fingerprints of s.
func (m *Memo) Server(s ServerFacts, t Transport) ServerPrints {
	key, ok := m.serverKey(s, t)
	if p, hit := m.server[string(key)]; ok && hit {
		return p
	}
	p := ServerPrints{JA4S: JA4S(s, t), JA3S: JA3S(s)}
	if ok {
		remember(&m.server, key, p)
	}
	return p
}

// remember files v under key, starting the map over when it holds memoEntries answers.
func remember[V any](memo *map[string]V, key []byte, v V) {
	if *memo == nil || len(*memo) >= memoEntries {
		*memo = make(map[string]V, memoEntries)
	}
	(*memo)[string(key)] = v
}

// clientKey encodes every fact JA4 and JA3 read from c, in m.key; false when it would be over maxMemoKey.
func (m *Memo) clientKey(c ClientFacts, t Transport) ([]byte, bool) {
	alpn := firstALPN(c.ALPN)
	size := 4 + 2*(len(c.Ciphers)+len(c.Extensions)+len(c.Groups)+len(c.SigAlgs)+len(c.Versions)+5) +
		len(c.PointFormats) + 1 + len(alpn)
	if size > maxMemoKey {
		return nil, false
	}
	k := append(m.key[:0], byte(t), 'c')
	k = binary.BigEndian.AppendUint16(k, c.LegacyVersion)
	for _, list := range [...][]uint16{c.Ciphers, c.Extensions, c.Groups, c.SigAlgs, c.Versions} {
		k = appendNonGREASE(k, list)
	}
	k = append(k, byte(len(c.PointFormats)))
	k = append(k, c.PointFormats...)
	k = append(k, alpn...)
	m.key = k
	return k, true
}

// serverKey encodes every fact JA4S and JA3S read from s, in m.key; false when it would be over maxMemoKey.
func (m *Memo) serverKey(s ServerFacts, t Transport) ([]byte, bool) {
	if 10+2*len(s.Extensions)+len(s.ALPN) > maxMemoKey {
		return nil, false
	}
	k := append(m.key[:0], byte(t), 's')
	k = binary.BigEndian.AppendUint16(k, s.LegacyVersion)
	k = binary.BigEndian.AppendUint16(k, s.SelectedVersion)
	k = binary.BigEndian.AppendUint16(k, s.Cipher)
	k = appendNonGREASE(k, s.Extensions)
	k = append(k, s.ALPN...)
	m.key = k
	return k, true
}

// appendNonGREASE appends the count of vals' non-GREASE values, then those values, big-endian.
func appendNonGREASE(k []byte, vals []uint16) []byte {
	at := len(k)
	k = append(k, 0, 0)
	n := 0
	for _, v := range vals {
		if !IsGREASE(v) {
			k = binary.BigEndian.AppendUint16(k, v)
			n++
		}
	}
	binary.BigEndian.PutUint16(k[at:], uint16(n))
	return k
}
