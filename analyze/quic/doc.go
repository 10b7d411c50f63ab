// Package quic finds the TLS ClientHello of a QUIC connection, as an on-path observer can: by decrypting the
// client's Initial packets, whose keys derive from the client's first Destination Connection ID and a salt
// published for each version (RFC 9001 5.2). It also tells from the server's packets whether the handshake got
// an answer.
//
// A Flow takes the UDP payloads of one flow in capture order, client and server apart. It reads the long
// headers of QUIC v1 (RFC 9000), v2 (RFC 9369) and drafts 29 to 32, coalesced packets and trailing padding
// included; removes header protection; decrypts with AES-128-GCM; walks the PADDING, PING, ACK, CRYPTO and
// CONNECTION_CLOSE frames; and puts the CRYPTO data of several Initials back together in any order, so a
// post-quantum ClientHello that spans two or three packets comes out whole. ClientHello returns the handshake
// message; TLSRecord wraps it in a TLS record for tlshello.Parse. On the server side it authenticates server
// Initials with the server's Initial keys, notices Handshake, Retry and Version Negotiation packets addressed
// to the client, and keeps a CONNECTION_CLOSE (a TLS alert refusing the hello).
//
// Caps, each reported when reached: MaxInitials client and MaxServerPackets server long-header packets are
// examined per flow, MaxPacket bytes per Initial packet, MaxCrypto bytes of CRYPTO stream in at most 64
// separate pieces (status TooLarge). CRYPTO data that arrives twice keeps its first copy; different bytes set
// Conflict. Once the ClientHello is complete, or a cap is reached, a client datagram costs one comparison and
// no allocation, as does any 1-RTT (short header) datagram.
//
// What it never does: decrypt anything but Initial packets. Handshake, 0-RTT and 1-RTT keys come from the TLS
// key exchange and are out of an observer's reach; no key log is read, no Retry integrity tag is checked, and
// the server's ServerHello is not kept. Parsing never panics on any input (see the fuzz targets).
package quic
