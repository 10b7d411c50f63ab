package live

// defaultMethod on Linux is AF_PACKET: batched reads of a TPACKET_V3 ring, faster than libpcap's packet at a
// time through cgo, and there without cgo (docs/live.md, Throughput).
const defaultMethod = MethodAFPacket
