package analyze

import "github.com/intunecap/intunecap/analyze/decode"

// Tunnelled traffic (VXLAN and GENEVE from AWS Traffic Mirroring, Azure virtual network TAP or a Gateway Load
// Balancer; GRE, ERSPAN, MPLS from port mirroring) reaches the engine unwrapped by the decoder: its
// connections are the inner ones, and their records name the outermost encapsulation (the tunnel field).
//
// The driver shards VXLAN and GENEVE by the inner flow (shard.go leaves UDP to their ports to the decoder).
// The network identifier of VXLAN and GENEVE is part of the flow key: the same private addresses reused in two
// virtual networks stay two connections. GRE keys, ERSPAN session ids and MPLS labels are not: they may differ
// between the two directions of one connection (an MPLS label is chosen by each direction's next hop), which
// would split it in halves. DNS exchanges and the names DNS answers give are keyed by addresses and ports
// alone, as on a flat network.

// tunnelKey is the part of the flow key that the encapsulation gives: the kind and network identifier of a
// VXLAN or GENEVE tunnel, 0 otherwise.
func tunnelKey(t *decode.Tunnel) uint64 {
	if (t.Kind != decode.TunnelVXLAN && t.Kind != decode.TunnelGENEVE) || !t.HasID {
		return 0
	}
	return uint64(t.Kind)<<32 | uint64(t.ID)
}

// tunnelOf returns a copy of p's tunnel for a connection to keep, nil when p was not tunnelled (no allocation
// then).
func tunnelOf(p *decode.Packet) *decode.Tunnel {
	if p.Tunnel.Kind == decode.TunnelNone {
		return nil
	}
	return copyTunnel(&p.Tunnel)
}

// copyTunnel returns a copy of t for a connection or exchange to keep; nil for nil.
func copyTunnel(t *decode.Tunnel) *decode.Tunnel {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// tunnelField is the record's tunnel field.
func tunnelField(t *decode.Tunnel) string {
	if t == nil {
		return ""
	}
	return t.String()
}
