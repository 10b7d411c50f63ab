package gen

import "time"

// floodServer is the target of the SYN flood: an address no DNS answer names, port 443.
const floodPort = 443

// flood writes cfg.SYNFlood SYNs, each opening its own half-open connection: 4096 clients, each from distinct
// ports in a scrambled order, 2 µs apart, so that every connection is still waiting for its SYN-ACK when the
// capture ends. None has a name, so each is "other".
func (g *Gen) flood() error {
	const addrs = 4096
	server := unknownServer(0, false)
	t := g.cfg.Start
	for i := 0; i < g.cfg.SYNFlood; i++ {
		a, k := i%addrs, i/addrs
		if k >= 64512 {
			break // every (address, port) pair is used
		}
		ci := a % clients4
		g.h = hdr{src: clientAddr(a, false), dst: server, srcMAC: [6]byte{0x02, 0, 0, 1, byte(a >> 8), byte(a)},
			dstMAC: gatewayMAC, proto: protoTCP, sport: uint16(1024 + (k*7919+a*131)%64512), dport: floodPort,
			flags: syn, seq: g.rng.Uint32(), ttl: 64, ipID: uint16(i), synOpts: true, window: 0x01f6}
		if g.cfg.VLAN {
			g.h.vlan = uint16(100 + ci%4)
		}
		if err := g.write(t); err != nil {
			return err
		}
		g.exp.Verdicts["other"]++
		g.exp.Flows++
		t = t.Add(2 * time.Microsecond)
	}
	g.exp.Scenarios["syn-flood"] = g.exp.Flows
	return nil
}
