package tlsserver

import "fmt"

// AlertLevel is an alert's first byte (RFC 5246 7.2).
type AlertLevel uint8

// The alert levels.
const (
	LevelWarning AlertLevel = 1
	LevelFatal   AlertLevel = 2
)

func (l AlertLevel) String() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelFatal:
		return "fatal"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// AlertDescription is an alert's second byte: RFC 8446 6, with the values RFC 5246 and SSL 3.0 defined that
// 8446 reserves, and the TLS extensions' ones.
type AlertDescription uint8

// CloseNotify ends a connection without an error; it is the one warning that also ends a flight.
const CloseNotify AlertDescription = 0

var alertNames = map[AlertDescription]string{
	0:   "close_notify",
	10:  "unexpected_message",
	20:  "bad_record_mac",
	21:  "decryption_failed", // RFC 5246; reserved by RFC 8446
	22:  "record_overflow",
	30:  "decompression_failure", // RFC 5246; reserved by RFC 8446
	40:  "handshake_failure",
	41:  "no_certificate", // SSL 3.0; reserved
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	49:  "access_denied",
	50:  "decode_error",
	51:  "decrypt_error",
	60:  "export_restriction", // RFC 2246; reserved
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	86:  "inappropriate_fallback", // RFC 7507
	90:  "user_canceled",
	100: "no_renegotiation", // RFC 5246; reserved by RFC 8446
	109: "missing_extension",
	110: "unsupported_extension",
	111: "certificate_unobtainable", // RFC 6066; reserved by RFC 8446
	112: "unrecognized_name",
	113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value", // RFC 6066; reserved by RFC 8446
	115: "unknown_psk_identity",
	116: "certificate_required",
	120: "no_application_protocol",
	121: "ech_required", // RFC 9849
}

func (d AlertDescription) String() string {
	if s, ok := alertNames[d]; ok {
		return s
	}
	return fmt.Sprintf("alert(%d)", uint8(d))
}

// Side is the end of a connection that sent something.
type Side uint8

// The sides, spelled as the record field tls_alert_by.
const (
	ByServer Side = iota + 1
	ByClient
)

func (s Side) String() string {
	switch s {
	case ByServer:
		return "server"
	case ByClient:
		return "client"
	}
	return ""
}

// Alert is one plaintext TLS alert. The zero value means none was seen.
type Alert struct {
	Level       AlertLevel
	Description AlertDescription
	By          Side
}

// Seen reports that an alert was read.
func (a Alert) Seen() bool { return a.By != 0 }

// String is the record field tls_alert: level and description name, e.g. "fatal handshake_failure"; "" for
// no alert.
func (a Alert) String() string {
	if !a.Seen() {
		return ""
	}
	return a.Level.String() + " " + a.Description.String()
}
