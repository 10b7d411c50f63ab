package live

import (
	"net"
	"net/netip"
)

// prefix is an interface address with its netmask as a prefix; a mask that does not fit the address makes it
// a single address.
func prefix(ip net.IP, mask net.IPMask) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	bits := addr.BitLen()
	if ones, size := mask.Size(); size == bits {
		bits = ones
	}
	return netip.PrefixFrom(addr, bits), true
}
