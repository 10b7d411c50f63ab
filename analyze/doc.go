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
//   - lane.go: a lane runs one engine, inline or on a worker; batches and the one way to hand work over.
//   - shard.go: which lane owns a flow (a hash of its endpoints), read from the frame without decoding.
//   - merge.go, end.go: the worker lanes' records put back in the order one engine gives.
//
// One engine, in the order a packet walks through it:
//   - engine.go: Engine, Options, the packet's entry (dispatch by protocol), capture time and sweeps, emit.
//   - tcp.go: a TCP segment: its connection, duplicates, handshake and teardown state, Zeek-style history.
//   - udp.go: a UDP datagram that is not DNS: a flow and whether it was answered.
//   - icmp.go: an ICMP destination-unreachable error: the connection, flow or DNS query it quotes is rejected.
//   - tunnel.go: what a tunnel (VXLAN, GENEVE, GRE, ERSPAN, MPLS) adds to the flow key and the record.
//   - conn.go, conn_table.go, key.go, lru.go: a connection, the table that finds it, its key, its expiry.
//   - payload.go, stream.go, app.go: the first bytes of each side, and what the parsers read in them.
//   - dns.go, dns_udp.go, dns_tcp.go: DNS exchanges, over UDP and over TCP (and copies of other lanes' DNS).
//   - dns_cache.go: the client+address → name cache filled by DNS answers.
//   - dns_held.go, dns_record.go: failed lookups held back for a retry, and the record of an exchange.
//   - names.go: a connection's one name, from its payload or the DNS cache.
//   - conn_record.go, verdict.go: the record of a connection, its outcome and its verdict.
//   - summary.go, facts.go: the per-requirement summary and the capture facts.
//
// Adding a protocol: per-packet handling of a UDP protocol goes in its own file, called from Engine.udp
// (udp.go) the way DNS is (dns_udp.go); reading the server's side of a TCP connection goes through
// payload.go (Engine.readPayload, appState.readServer in app.go); new record fields are filled in
// conn_record.go (connections) or dns_record.go (DNS), with their values in package result.
package analyze
