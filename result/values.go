package result

// The values of Record's enumerated fields. Each type is a string whose value is its JSON spelling, and each
// const block below is the one table of its type's values: docs/report.md lists exactly these (a test in this
// package holds the two together), and a switch over a typed value is checked by the compiler and vet.

// State says what happened on the wire to a connection, flow or DNS exchange, in Zeek's spirit.
type State string

// The states (docs/report.md, "States").
const (
	StateEstablished State = "established" // TCP: the handshake completed; the connection ran or closed normally
	StateRefused     State = "refused"     // TCP: the SYN was answered by a reset
	StateReset       State = "reset"       // TCP: the server side reset the connection
	StateAborted     State = "aborted"     // TCP: the client reset the connection after a reply
	StateUnanswered  State = "unanswered"  // SYNs, a UDP datagram or a DNS query with no reply
	StateRejected    State = "rejected"    // an ICMP destination-unreachable error, and no reply, answered it
	StatePartial     State = "partial"     // TCP: the capture began mid-stream
	StateAnswered    State = "answered"    // UDP and DNS: a reply came back
	// QUIC: the server answered only with Version Negotiation (it does not speak the client's version).
	StateVersionNegotiation State = "version-negotiation"
)

// Stage says how far a failed connection or lookup got before it was blocked or reset.
type Stage string

// The stages (docs/report.md, "Stages"). A record that did not fail has none (the empty Stage).
const (
	StageAfterSyn         Stage = "after-syn"          // no answer to the SYN, or a reset instead of a SYN-ACK
	StageAfterClientHello Stage = "after-client-hello" // after the TLS ClientHello
	StageAfterConnect     Stage = "after-connect"      // after the CONNECT request to a proxy
	StageAfterSOCKS       Stage = "after-socks"        // after the SOCKS request to a proxy
	StageAfterRequest     Stage = "after-request"      // after a plain HTTP request
	StageAfterData        Stage = "after-data"         // later, after data had flowed
	StageAfterQuery       Stage = "after-query"        // after a DNS query or a UDP datagram
)

// Transport says what a connection's payload turned out to be.
type Transport string

// The transports (docs/report.md, the transport field).
const (
	TransportTLS     Transport = "tls"     // a TLS ClientHello
	TransportHTTP    Transport = "http"    // an HTTP/1.x request
	TransportConnect Transport = "connect" // a CONNECT request to a proxy
	TransportSOCKS   Transport = "socks"   // a SOCKS4, SOCKS4a or SOCKS5 request to a proxy
	TransportDNS     Transport = "dns"     // DNS, over UDP or TCP
	TransportQUIC    Transport = "quic"    // QUIC: a long-header Initial from the client to UDP port 443
	TransportUnknown Transport = "unknown" // payload no parser recognised
	TransportNone    Transport = "none"    // no payload from the client
)

// NameSource says where a record's name was read.
type NameSource string

// The name sources (docs/report.md, the name_source field). A record without a name has none (the empty
// NameSource).
const (
	NameFromSNI      NameSource = "sni"       // the TLS ClientHello's server_name
	NameFromHTTPHost NameSource = "http-host" // the HTTP request's Host (or absolute URI)
	NameFromConnect  NameSource = "connect"   // the CONNECT request's target
	NameFromSOCKS    NameSource = "socks"     // the SOCKS4a or SOCKS5 request's target host name
	NameFromDNS      NameSource = "dns"       // a DNS answer to the same client named the server's address
	NameFromQuery    NameSource = "query"     // a DNS exchange's question
	NameFromProbe    NameSource = "probe"     // intunecap probe contacted this name itself
)

// NameConfidence says how sure a name read from DNS answers is (name_source dns only).
type NameConfidence string

// The confidences (docs/report.md, the name_confidence field). A record named otherwise has none.
const (
	ConfidenceSingle    NameConfidence = "single"    // one name of this client resolved to the server's address
	ConfidenceAmbiguous NameConfidence = "ambiguous" // several did (name_candidates lists them); the latest is used
	ConfidenceStale     NameConfidence = "stale"     // the answer's TTL had run out before the connection began
)

// RootStore says where the root a certificate chain verified to is trusted (cert_root_store).
type RootStore string

// The root stores, spelled as in the record.
const (
	RootStoreMozilla        RootStore = "mozilla"         // the pinned Mozilla store
	RootStoreMozillaRemoved RootStore = "mozilla-removed" // a root Mozilla has removed since, trusted at the capture time
	RootStoreTrustFile      RootStore = "trust-file"      // a root of the --trust file
)
