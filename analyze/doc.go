// Package analyze turns decoded packets into one verdict per connection and DNS exchange, and a summary per
// requirement. It keeps a bounded table of connections keyed by 5-tuple and VLAN, reads names from the first
// bytes of each connection (TLS ClientHello SNI, HTTP Host, CONNECT target) or from the DNS answers the same
// client got, and asks the rules package what the name and port mean. The network identifier of a VXLAN or
// GENEVE tunnel is part of the key too, and ICMP destination-unreachable errors are matched to the connection
// or DNS query they quote.
//
// Time is capture time throughout: the output depends on the packets and the rules alone.
//
// # Where things are
//
// The run (one loop for files and live interfaces):
//   - source.go: Source, the frame-source contract; Files; Hooks for what a caller does beside the analysis.
//   - driver.go: Run; the read loop: frame counts, decoding, capture-time ticks, routing packets to lanes.
//   - clock.go: capture time for expiry, which a lone frame far ahead of the others does not move.
//   - lane.go: a lane runs one engine, inline or on a worker; batches and the one way to hand work over.
//   - prepare.go: on a worker lane, the reading goroutine parses a ClientHello a segment carries whole and
//     the DNS message of a datagram, for the engine to take for that packet.
//   - shard.go: which lane owns a flow (a hash of its endpoints), read from the frame without decoding.
//   - merge.go, end.go: the worker lanes' records put back in the order one engine gives.
//
// One engine, in the order a packet walks through it:
//   - engine.go: Engine, Options, the packet's entry (dispatch by protocol), capture time and sweeps, emit.
//   - inline_records.go: an engine in the reading goroutine keeps a big sweep's records in full slices.
//   - tcp.go: a TCP segment: its connection, duplicates, handshake and teardown state, Zeek-style history.
//   - udp.go: a UDP datagram that is not DNS: a flow and whether it was answered.
//   - quic_flow.go: a UDP flow to port 443 that starts with a QUIC Initial: its decrypted ClientHello (with
//     analyze/quic), its state and outcome; quic_fallback.go: a blocked QUIC flow forgiven when the client
//     reached the name over TCP.
//   - icmp.go: an ICMP destination-unreachable error: the connection, flow or DNS query it quotes is rejected.
//   - tunnel.go: what a tunnel (VXLAN, GENEVE, GRE, ERSPAN, MPLS) adds to the flow key and the record.
//   - conn.go, conn_table.go, key.go, lru.go: a connection, the table that finds it, its key, its expiry.
//   - payload.go, stream.go, app.go: the first bytes of each side (overlaps keep the first copy), and what
//     the parsers read in them.
//   - tls_server.go, tls_verdict.go: a TLS server's first flight read as it arrives (analyze/tlsserver), the
//     client's alert, the chain's class (analyze/certchain), fingerprints, and what they say of the verdict.
//   - dns.go, dns_udp.go, dns_tcp.go: DNS exchanges, over UDP and over TCP (and copies of other lanes' DNS).
//   - dns_cache.go: the client+address → name cache filled by DNS answers, bounded in entries and bytes.
//   - dns_held.go, dns_record.go: failed lookups held back for a retry, and the record of an exchange.
//   - names.go: a connection's one name, from its payload or the DNS cache.
//   - name_check.go: names that are not host names, or were sent in two spellings, are not trusted.
//   - conn_record.go, verdict.go: the record of a connection, its outcome and its verdict.
//   - addr_text.go: the text of the addresses records name, cached (a gateway names the same hosts again).
//   - summary.go, facts.go: the per-requirement summary and the capture facts.
//   - unlisted.go, sketch.go: the capped list of unlisted names, and the estimate of how many there were.
//
// Adding a protocol: per-packet handling of a UDP protocol goes in its own file, called from Engine.udp
// (udp.go) the way DNS is (dns_udp.go); reading the server's side of a TCP connection goes through
// payload.go (Engine.readPayload, appState.readServer in app.go, Engine.readFlight in tls_server.go); new
// record fields are filled in conn_record.go (connections) or dns_record.go (DNS), with their values in
// package result.
package analyze
