package tlsserver

import "fmt"

// maxClientRecords bounds the records ClientAlert walks: a ClientHello in a few records, then at most
// Certificate, ClientKeyExchange, CertificateVerify before the ChangeCipherSpec.
const maxClientRecords = 64

// ClientAlert looks for a plaintext alert in the client->server stream, given from its first byte (the
// ClientHello's record included). It walks the records: handshake records are skipped; a 2-byte alert
// record is the answer (Complete with the alert, e.g. "fatal unknown_ca" when the client rejected the
// server's certificate); a ChangeCipherSpec or application data record, or an alert record that is not
// 2 bytes (encrypted), ends the search with no alert (Complete, zero Alert). Otherwise NeedMore with the
// stream length at which a new call can make progress, never more than MaxFlight (Complete with no alert
// there); NotTLS or Malformed for a stream that does not start, or go on, as TLS records.
func ClientAlert(stream []byte) (Alert, Status, int, error) {
	off := 0
	for i := 0; i < maxClientRecords; i++ {
		if off+recordHeader > len(stream) {
			if i == 0 && sniff(stream) != NeedMore {
				return Alert{}, NotTLS, 0, fmt.Errorf("tls client stream: first bytes % x are not a tls record", stream)
			}
			return clientNeed(off + recordHeader)
		}
		h := stream[off : off+recordHeader]
		if i == 0 && sniff(h) != NeedMore {
			return Alert{}, NotTLS, 0, fmt.Errorf("tls client stream: first bytes % x are not a tls record", h)
		}
		length := int(be16(h[3:]))
		if h[1] != 3 || length > maxRecord {
			return Alert{}, Malformed, 0, fmt.Errorf("tls client record %d at %d: version %#04x length %d", i+1, off, be16(h[1:]), length)
		}
		end := off + recordHeader + length
		switch h[0] {
		case recHandshake, recHeartbeat:
		case recAlert:
			if length != 2 {
				return Alert{}, Complete, 0, nil // encrypted (TLS 1.2 after ChangeCipherSpec)
			}
			if end > len(stream) {
				return clientNeed(end)
			}
			return Alert{Level: AlertLevel(stream[off+5]), Description: AlertDescription(stream[off+6]), By: ByClient}, Complete, 0, nil
		case recChangeCipherSpec, recApplicationData:
			return Alert{}, Complete, 0, nil
		default:
			return Alert{}, Malformed, 0, fmt.Errorf("tls client record %d at %d: content type %d", i+1, off, h[0])
		}
		off = end
	}
	return Alert{}, Complete, 0, nil
}

// clientNeed asks for the stream to reach need bytes, or gives up at MaxFlight.
func clientNeed(need int) (Alert, Status, int, error) {
	if need > MaxFlight {
		return Alert{}, Complete, 0, nil
	}
	return Alert{}, NeedMore, need, nil
}
