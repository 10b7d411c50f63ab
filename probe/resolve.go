package probe

import (
	"context"
	"net"
	"net/netip"
)

// Resolver turns a host name into the addresses a probe may contact, in the order to try them.
type Resolver interface {
	Lookup(ctx context.Context, host string) ([]netip.Addr, error)
}

// SystemResolver asks the operating system's resolver, as the device's own clients would.
type SystemResolver struct{}

// Lookup resolves host with net.DefaultResolver.
func (SystemResolver) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.Unmap())
	}
	return out, nil
}
