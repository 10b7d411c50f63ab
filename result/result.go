package result

import "github.com/intunecap/intunecap/rules"

// Record is the outcome of one TCP connection, one UDP flow or one DNS exchange. Its JSON field names are a
// stable contract (docs/report.md): scripts and CI pipelines parse them.
type Record struct {
	Type        string        `json:"type"`                   // "flow" or "dns"
	Proto       string        `json:"proto"`                  // "tcp" or "udp"
	File        string        `json:"file,omitempty"`         // capture file, only when several files were read
	VLAN        []int         `json:"vlan,omitempty"`         // VLAN ids, outer first, when tagged
	Client      string        `json:"client"`                 // originator address (SYN sender, query sender)
	ClientPort  uint16        `json:"client_port"`            //
	Server      string        `json:"server"`                 // responder address (for proxied connections: the proxy)
	ServerPort  uint16        `json:"server_port"`            //
	Port        uint16        `json:"port"`                   // the port checked against the rules (CONNECT target port when proxied)
	Name        string        `json:"name,omitempty"`         // the one name this connection is known by
	NameSource  NameSource    `json:"name_source,omitempty"`  // where Name was read (values.go)
	NameFrame   uint64        `json:"name_frame,omitempty"`   // frame the name was read from
	ViaProxy    bool          `json:"via_proxy,omitempty"`    // CONNECT or absolute-URI request sent to a proxy
	ProxyStatus int           `json:"proxy_status,omitempty"` // the proxy's HTTP status for CONNECT
	ProxyAuth   string        `json:"proxy_auth,omitempty"`   // schemes of the proxy's 407 challenge: "Basic", "NTLM, Negotiate"
	ProxyVia    bool          `json:"proxy_via,omitempty"`    // the answer carried a Via header: a proxy handled it
	SOCKS       *SOCKS        `json:"socks,omitempty"`        // the SOCKS exchange, for transport socks
	DNSChain    []string      `json:"dns_chain,omitempty"`    // for name_source dns: question, CNAMEs..., address
	Rule        string        `json:"rule,omitempty"`         // pattern of the most specific matching row
	RuleKey     string        `json:"rule_key,omitempty"`     // table:row identity of that row
	Purpose     string        `json:"purpose,omitempty"`      //
	Transport   Transport     `json:"transport"`              // what the payload was (values.go)
	ECH         bool          `json:"ech,omitempty"`          // the ClientHello offered encrypted_client_hello
	QUICVersion string        `json:"quic_version,omitempty"` // QUIC version of the client's first Initial: "1", "2", "draft-29", "0x%08x"
	History     string        `json:"history,omitempty"`      // Zeek-style letters, upper case = client
	State       State         `json:"state"`                  // what happened on the wire (values.go)
	Verdict     rules.Verdict `json:"verdict"`                //
	Stage       Stage         `json:"stage,omitempty"`        // where a failure happened (values.go)
	Reason      string        `json:"reason,omitempty"`       // one human sentence for a non-allowed verdict
	FirstFrame  uint64        `json:"first_frame"`            //
	LastFrame   uint64        `json:"last_frame"`             //
	// VerdictFrame is the frame that settled a failing verdict (the proxy's answer, the server side's RST),
	// when it is not the last frame.
	VerdictFrame uint64 `json:"verdict_frame,omitempty"`
	// DisplayFilter is a Wireshark display filter for the record's conversation, on every record that is
	// not plainly allowed (or other).
	DisplayFilter string     `json:"display_filter,omitempty"`
	Start         string     `json:"start"`            // RFC 3339 with nanoseconds, capture time, UTC
	Duration      float64    `json:"duration"`         // seconds between first and last packet
	Packets       int        `json:"packets"`          //
	Bytes         int64      `json:"bytes"`            // wire bytes, both directions
	ICMP          *ICMPError `json:"icmp,omitempty"`   // the first ICMP destination-unreachable error that quoted it
	Tunnel        string     `json:"tunnel,omitempty"` // outer encapsulation, e.g. "vxlan 10.0.0.1>10.0.0.2 vni 5"

	// For name_source dns: whether one name, several (NameCandidates, at most 8) or an expired answer named the
	// server's address (values.go).
	NameConfidence NameConfidence `json:"name_confidence,omitempty"`
	NameCandidates []string       `json:"name_candidates,omitempty"`

	// TLS connections only: the handshake as far as it was in clear (docs/report.md, "TLS fields").
	TLSVersion    string    `json:"tls_version,omitempty"`     // negotiated: "1.0" ... "1.3"
	TLSCipher     string    `json:"tls_cipher,omitempty"`      // IANA name of the selected suite, or "0x1301"-style hex
	ALPN          []string  `json:"alpn,omitempty"`            // protocols the client offered, in order
	ALPNSelected  string    `json:"alpn_selected,omitempty"`   // protocol the server chose, when visible
	TLSAlert      string    `json:"tls_alert,omitempty"`       // plaintext alert, e.g. "fatal handshake_failure"
	TLSAlertBy    string    `json:"tls_alert_by,omitempty"`    // "client" or "server" (the server side: a middlebox too)
	JA4           string    `json:"ja4,omitempty"`             // FoxIO JA4 of the ClientHello ("q" prefix over QUIC)
	JA4S          string    `json:"ja4s,omitempty"`            // FoxIO JA4S of the ServerHello
	JA3           string    `json:"ja3,omitempty"`             // MD5 hex of the ClientHello's JA3 string
	JA3S          string    `json:"ja3s,omitempty"`            // MD5 hex of the ServerHello's JA3S string
	CertSubject   string    `json:"cert_subject,omitempty"`    // leaf subject, RFC 4514
	CertIssuer    string    `json:"cert_issuer,omitempty"`     // leaf issuer's CN, else its RFC 4514 name
	CertSANs      []string  `json:"cert_sans,omitempty"`       // DNS SANs of the leaf, at most 20
	CertNotBefore string    `json:"cert_not_before,omitempty"` // RFC 3339 UTC
	CertNotAfter  string    `json:"cert_not_after,omitempty"`  // RFC 3339 UTC
	CertSHA256    string    `json:"cert_sha256,omitempty"`     // lower-case hex SHA-256 of the leaf DER
	CertChain     string    `json:"cert_chain,omitempty"`      // public, private, expired, name-mismatch, hidden
	CertRoot      string    `json:"cert_root,omitempty"`       // the root the chain verified to (public, expired, name-mismatch)
	CertRootStore RootStore `json:"cert_root_store,omitempty"` // where that root is trusted: mozilla, mozilla-removed, trust-file

	// DNS exchanges only.
	QType   string   `json:"qtype,omitempty"`
	Rcode   string   `json:"rcode,omitempty"`   // NOERROR, NXDOMAIN, ..., or "" with state unanswered
	Answers []string `json:"answers,omitempty"` // addresses answered (A/AAAA), in message order
	CNAMEs  []string `json:"cnames,omitempty"`  // CNAME chain, in order
	Warning string   `json:"warning,omitempty"` // e.g. a failed AAAA beside a good A for the same name

	// OverlapConflict: TCP retransmissions resent the client's first bytes (where the name is read) with
	// different contents; the first copy was read, and the verdict is never allowed on that name.
	OverlapConflict bool `json:"overlap_conflict,omitempty"`

	// Order is the capture position of the record's first packet. It is not written out: engines and the
	// merger sort by it so that records come out in capture order whatever the number of workers.
	Order uint64 `json:"-"`
}

// ICMPError is an ICMP destination-unreachable error (ICMPv4 type 3, ICMPv6 type 1) that quoted a record's
// packet: its type and code as on the wire, and the address of the router or host that sent it.
type ICMPError struct {
	Type int    `json:"type"`
	Code int    `json:"code"`
	From string `json:"from"`
}

// RuleSummary says how one requirement row fared in the capture.
type RuleSummary struct {
	Key      string         `json:"key"`
	Table    string         `json:"table"`
	Row      int            `json:"row"`
	ID       string         `json:"id,omitempty"`
	Purpose  string         `json:"purpose"`
	Pattern  string         `json:"pattern"`
	Ports    string         `json:"ports"`
	Status   string         `json:"status"` // "ok", "failing", "not-seen"
	Verdicts map[string]int `json:"verdicts,omitempty"`
	Names    []string       `json:"names,omitempty"` // distinct names seen for this row, sorted
	// DisplayFilter, for a failing row, is a Wireshark display filter that shows its first failing records
	// (the display filters of up to ten, ORed).
	DisplayFilter string `json:"display_filter,omitempty"`
}

// NameCount is a name with how many connections or exchanges carried it.
type NameCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// CaptureFacts describe the input, so a reader can judge how much the capture can tell.
type CaptureFacts struct {
	Files        []string `json:"files"`
	Packets      uint64   `json:"packets"`
	Bytes        uint64   `json:"bytes"`
	First        string   `json:"first,omitempty"` // RFC 3339, capture time
	Last         string   `json:"last,omitempty"`
	Duration     float64  `json:"duration"`
	LinkTypes    []string `json:"link_types"`
	Connections  int      `json:"connections"`
	DNSExchanges int      `json:"dns_exchanges"`
	Quality      Quality  `json:"quality"`
	Warnings     []string `json:"warnings,omitempty"` // input problems, one line each
}

// Quality counts what limits the capture's evidence (issue 7's capture-quality section).
type Quality struct {
	Truncated      uint64 `json:"truncated_packets"`     // cut by snaplen
	Undecodable    uint64 `json:"undecodable_packets"`   // not IP, or malformed headers
	UndecodableDNS uint64 `json:"undecodable_dns"`       // port-53 payloads that are not DNS, or cut before the question
	OneSided       int    `json:"one_sided_connections"` // only one direction seen
	MidStream      int    `json:"midstream_connections"` // capture began after the handshake
	Evicted        uint64 `json:"evicted_connections"`   // dropped from the table under memory caps
	Duplicates     uint64 `json:"duplicate_packets"`     // same packet seen twice (pktmon layers)
	ParserPanics   uint64 `json:"parser_panics"`         // recovered; the connection was marked
	InterfaceDrops uint64 `json:"interface_drops"`       // from pcapng statistics blocks or libpcap
	// ICMPRejections counts ICMP destination-unreachable errors read (fragmentation needed left out);
	// UnmatchedICMP those of them that quoted no connection, flow or DNS query the engine was tracking.
	ICMPRejections uint64 `json:"icmp_rejections"`
	UnmatchedICMP  uint64 `json:"unmatched_icmp"`
	// Fragment counts, IPv4 and IPv6 together: datagrams rebuilt from fragments, incomplete datagrams dropped
	// (a fragment lost past the timeout, the memory cap reached, or overlapping fragments), and datagrams
	// still incomplete when the capture ended. A dropped or incomplete datagram was not analysed.
	FragmentsReassembled uint64 `json:"fragments_reassembled"`
	FragmentsDropped     uint64 `json:"fragments_dropped"`
	FragmentsIncomplete  uint64 `json:"fragments_incomplete"`
	// BadChecksums counts verified packets with a wrong IPv4 header, TCP, UDP or ICMP checksum that are damage.
	// Only the packets the engine reads closely are verified (handshake and reset segments, the first bytes
	// it reads a name from, DNS, ICMP errors), never bulk data; snaplen-cut packets are not.
	BadChecksums uint64 `json:"bad_checksums"`
	// ChecksumOffload lists the addresses (sorted, at most 64) whose own packets carry checksums their NIC had
	// not finished when the capture saw them: the capturing host, with checksum offload. Not damage; those
	// packets are analysed as usual. ChecksumOffloadPackets counts the failing packets of all of them.
	ChecksumOffload        []string `json:"checksum_offload,omitempty"`
	ChecksumOffloadPackets uint64   `json:"checksum_offload_packets,omitempty"`
	// AckedUnseen counts TCP connections where one side acknowledged sequence space the capture never saw the
	// other side send: the capture lost segments (Wireshark's "ACKed segment that wasn't captured").
	AckedUnseen uint64 `json:"acked_unseen"`
	// MissingSynAck counts TCP connections whose client completed the handshake (acknowledged the server's
	// SYN-ACK) though the capture never saw a SYN-ACK: lost, or the capture sees one direction only.
	MissingSynAck uint64 `json:"missing_synack"`

	// The counts below are left out when zero.

	// TimeJumps counts frames far ahead of the frames on both sides of them: they did not move the clock that
	// expires connections.
	TimeJumps uint64 `json:"time_jumps,omitempty"`
	// OverlapConflicts counts TCP segments that resent bytes already seen with different contents (the first
	// copy is kept; the connection's record has overlap_conflict).
	OverlapConflicts uint64 `json:"overlap_conflicts,omitempty"`
	// StreamGapsOverCap counts connections whose first bytes came in more pieces with holes between them than
	// the reassembly keeps (16): later pieces were dropped, and a name in them was not read.
	StreamGapsOverCap uint64 `json:"stream_gaps_over_cap,omitempty"`
	// DNSFalseCounts counts DNS answers that hold fewer records than their header counts, though the capture
	// holds every byte sent (malformed by the sender, not cut by snaplen).
	DNSFalseCounts uint64 `json:"dns_false_counts,omitempty"`
	// DNSNamesEvicted counts (client, address) → name entries from DNS answers forgotten under the cache's caps;
	// a later connection to such an address may go unnamed.
	DNSNamesEvicted uint64 `json:"dns_names_evicted,omitempty"`
}

// Summary is the per-requirement view and the capture facts, written after every record.
type Summary struct {
	Type     string         `json:"type"` // "summary"
	Rules    []RuleSummary  `json:"rules"`
	Verdicts map[string]int `json:"verdicts"`
	Unlisted []NameCount    `json:"unlisted"`
	Failing  int            `json:"failing"` // records whose verdict is in --fail-on
	Capture  CaptureFacts   `json:"capture"`

	// Past its cap (10,000 names) Unlisted keeps the alphabetically first names, with exact counts; then
	// UnlistedNames estimates how many distinct unlisted names the records had (a sketch; never fewer than those
	// listed plus one), UnlistedNamesEstimated is set, and UnlistedOmitted counts the records of the names left
	// out. Below the cap all three are zero: the list is whole.
	UnlistedNames          int  `json:"unlisted_names,omitempty"`
	UnlistedNamesEstimated bool `json:"unlisted_names_estimated,omitempty"`
	UnlistedOmitted        int  `json:"unlisted_omitted_records,omitempty"`

	// UnlistedFailing counts records to unlisted Microsoft names that the network blocked or reset (judged from
	// their state, proxy status and rcode, as for listed names) and whose failure is in --fail-on. They count
	// towards the outcome like Failing.
	UnlistedFailing int `json:"unlisted_failing,omitempty"`
	// UnlistedCoverage says how many unlisted names another built-in table would list (the current endpoint
	// list, when the run used the 2015 table), so the reader knows whether switching tables would help.
	UnlistedCoverage *Coverage `json:"unlisted_coverage,omitempty"`
	// Outcome is the run's answer: "pass", "fail" or "inconclusive" (exit status 0, 1 or 3).
	Outcome string `json:"outcome,omitempty"`
	// OutcomeReasons says why a run is inconclusive (or what limits a failing one), each with what to do.
	OutcomeReasons []string `json:"outcome_reasons,omitempty"`

	// Devices are the client addresses with the most failures (then the most records), as far as the writer
	// that filled them saw: the json, text and html writers fill them, the engine does not. Nil leaves them out.
	Devices []Device `json:"devices,omitempty"`
	// DevicesTotal is how many distinct client addresses the records came from, counted exactly up to the
	// aggregator's cap; DevicesUntracked counts the records of clients beyond it.
	DevicesTotal     int `json:"devices_total,omitempty"`
	DevicesUntracked int `json:"devices_untracked_records,omitempty"`

	// Proxies are the proxies the records show (CONNECT and absolute-URI requests, and intercepting proxies on
	// direct paths), each judged against the proxy requirements; their requirements also appear in Rules, with
	// table "proxy". Nil when the capture shows no proxy.
	Proxies []Proxy `json:"proxies,omitempty"`
	// ProxyFailing counts the failing proxy requirements. Non-zero fails the run when --fail-on has blocked.
	ProxyFailing int `json:"proxy_failing,omitempty"`
}

// Coverage is how many of the unlisted names the table Rules would list.
type Coverage struct {
	Rules string `json:"rules"` // a built-in profile, e.g. "intune-current"
	Names int    `json:"names"` // unlisted names it lists
	Of    int    `json:"of"`    // unlisted names looked at
}

// Device is one client address (a phone, a laptop, or a NAT in front of many) and how its traffic fared.
type Device struct {
	Address  string         `json:"address"`
	Records  int            `json:"records"`          // connections and DNS exchanges it started
	Failing  int            `json:"failing"`          // of those, records whose verdict is in --fail-on
	Verdicts map[string]int `json:"verdicts"`         // records per verdict
	First    string         `json:"first,omitempty"`  // start of its earliest record, RFC 3339
	Last     string         `json:"last,omitempty"`   // start of its latest record
	Failed   []string       `json:"failed,omitempty"` // keys of the requirement rows it failed, sorted (bounded)
	Names    []string       `json:"names,omitempty"`  // first distinct failing names, in capture order (bounded)
}

// Sink receives the analysis as it happens: each record as soon as its verdict is final (connection closed,
// expired, or the capture ended), in an order that depends on the capture alone, then the summary once.
// Report writers and live mode implement it. The record passed to Record is reused once the call returns: a
// sink that keeps one copies it.
type Sink interface {
	Record(r *Record) error
	Summary(s *Summary) error
}
