package tlsserver

import (
	"fmt"
	"testing"
)

func TestClientAlert(t *testing.T) {
	hello := record(22, message(1, make([]byte, 200)))
	tests := []struct {
		name   string
		data   []byte
		status Status
		alert  string
	}{
		{"unknown ca after the hello", cat(hello, record(21, []byte{2, 48})), Complete, "fatal unknown_ca"},
		{"bad certificate after key exchange", cat(hello, record(22, message(16, make([]byte, 66))), record(21, []byte{2, 42})), Complete, "fatal bad_certificate"},
		{"hello over records then alert", cat(records(22, message(1, make([]byte, 300)), 100), record(21, []byte{2, 46})), Complete, "fatal certificate_unknown"},
		{"change cipher spec: nothing readable after", cat(hello, record(20, []byte{1}), record(21, []byte{2, 48})), Complete, ""},
		{"encrypted alert", cat(hello, record(21, make([]byte, 26))), Complete, ""},
		{"application data", cat(hello, record(23, make([]byte, 26))), Complete, ""},
		{"hello only", hello, NeedMore, ""},
		{"half an alert", cat(hello, record(21, []byte{2, 48})[:6]), NeedMore, ""},
		{"not tls", []byte("GET / HTTP/1.1\r\n"), NotTLS, ""},
		{"bad record type", cat(hello, record(99, []byte{1})), Malformed, ""},
		{"bad record version", cat(hello, []byte{21, 9, 3, 0, 2, 2, 48}), Malformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, st, need, err := clientAlertIn(tc.data)
			if st != tc.status || a.String() != tc.alert || (st == NeedMore) != (need > 0) {
				t.Errorf("%v %q need %d err %v; want %v %q", st, a, need, err, tc.status, tc.alert)
			}
			if a.Seen() && a.By != ByClient {
				t.Errorf("alert by %v", a.By)
			}
		})
	}
}

// clientAlertIn grows the prefix as ClientAlert asks, as the engine would.
func clientAlertIn(data []byte) (Alert, Status, int, error) {
	for n := 0; ; {
		a, st, need, err := ClientAlert(data[:n])
		if st != NeedMore {
			return a, st, 0, err
		}
		if need <= n {
			panic(fmt.Sprintf("ClientAlert asked for %d at %d", need, n))
		}
		if need > len(data) {
			return a, st, need, err
		}
		n = need
	}
}

// TestAlertNames covers every name of the table and the fallbacks.
func TestAlertNames(t *testing.T) {
	tests := []struct {
		a    Alert
		want string
	}{
		{Alert{LevelFatal, 40, ByServer}, "fatal handshake_failure"},
		{Alert{LevelWarning, 0, ByServer}, "warning close_notify"},
		{Alert{LevelFatal, 121, ByClient}, "fatal ech_required"},
		{Alert{LevelFatal, 200, ByClient}, "fatal alert(200)"},
		{Alert{7, 48, ByClient}, "level(7) unknown_ca"},
		{Alert{}, ""},
	}
	for _, tc := range tests {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v: %q want %q", tc.a, got, tc.want)
		}
	}
	// RFC 8446 6 and RFC 5246 7.2 numbers, checked one by one against the RFCs' tables.
	rfc := map[uint8]string{0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
		22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
		43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
		47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error", 51: "decrypt_error",
		60: "export_restriction", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
		86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
		110: "unsupported_extension", 111: "certificate_unobtainable", 112: "unrecognized_name",
		113: "bad_certificate_status_response", 114: "bad_certificate_hash_value", 115: "unknown_psk_identity",
		116: "certificate_required", 120: "no_application_protocol", 121: "ech_required"}
	for d := 0; d < 256; d++ {
		want, ok := rfc[uint8(d)]
		if !ok {
			want = fmt.Sprintf("alert(%d)", d)
		}
		if got := AlertDescription(d).String(); got != want {
			t.Errorf("%d: %q want %q", d, got, want)
		}
	}
	if ByServer.String() != "server" || ByClient.String() != "client" || Side(0).String() != "" {
		t.Error("side names")
	}
}
