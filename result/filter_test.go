package result

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

func TestDisplayFilter(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"tcp v4", Record{Proto: "tcp", Client: "198.18.0.2", ClientPort: 48234, Server: "198.18.1.22", ServerPort: 443},
			"ip.addr==198.18.0.2 && ip.addr==198.18.1.22 && tcp.port==48234 && tcp.port==443"},
		{"udp v6", Record{Proto: "udp", Client: "2001:2::2", ClientPort: 5353, Server: "2001:2::1", ServerPort: 53},
			"ipv6.addr==2001:2::2 && ipv6.addr==2001:2::1 && udp.port==5353 && udp.port==53"},
		{"v4-mapped", Record{Proto: "udp", Client: "2001:2::1", ClientPort: 5353, Server: "::ffff:198.18.0.1", ServerPort: 53},
			"ipv6.addr==2001:2::1 && ip.addr==198.18.0.1 && udp.port==5353 && udp.port==53"},
		{"not an address", Record{Proto: "tcp", Client: "x", ClientPort: 1, Server: "198.18.1.22", ServerPort: 443}, ""},
		{"zone left out", Record{Proto: "udp", Client: "fe80::1%eth0", ClientPort: 546, Server: "::%\xc1", ServerPort: 547},
			"ipv6.addr==fe80::1 && ipv6.addr==:: && udp.port==546 && udp.port==547"},
	}
	for _, tc := range tests {
		if got := DisplayFilter(&tc.r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := JoinFilters([]string{"a"}, 2); got != "a" {
		t.Errorf("JoinFilters of one = %q", got)
	}
	if got := JoinFilters([]string{"a", "", "b", "c"}, 2); got != "(a) || (b)" {
		t.Errorf("JoinFilters = %q", got)
	}
}

// addrFilterReference and displayFilterReference are AddrFilter and DisplayFilter as first written, by
// string concatenation (zones left out): the references the buffer-building ones are held to.
func addrFilterReference(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	a = a.WithZone("")
	if a.Unmap().Is4() {
		return "ip.addr==" + a.Unmap().String(), true
	}
	return "ipv6.addr==" + a.String(), true
}

func displayFilterReference(r *Record) string {
	c, ok1 := addrFilterReference(r.Client)
	s, ok2 := addrFilterReference(r.Server)
	if !ok1 || !ok2 {
		return ""
	}
	pf := PortField(r.Proto)
	return c + " && " + s + " && " + pf + strconv.Itoa(int(r.ClientPort)) + " && " + pf + strconv.Itoa(int(r.ServerPort))
}

// TestDisplayFilterAgainstReference compares DisplayFilter and AddrFilter with the concatenating reference
// on random records: IPv4, IPv6, IPv4-mapped, zoned and invalid addresses, every protocol, any port.
func TestDisplayFilterAgainstReference(t *testing.T) {
	addrs := []string{"198.18.0.2", "::ffff:198.18.0.1", "2001:2::1", "fe80::1%eth0", "fe80:1:2:3:4:5:6:7%a-very-long-zone-name",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0.0.0.0", "", "x", "198.18.0.256", "::"}
	protos := []string{"tcp", "udp", "", "icmp"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		r := Record{Proto: protos[rng.IntN(len(protos))], Client: addrs[rng.IntN(len(addrs))], Server: addrs[rng.IntN(len(addrs))],
			ClientPort: uint16(rng.Uint32()), ServerPort: uint16(rng.Uint32())}
		if got, want := DisplayFilter(&r), displayFilterReference(&r); got != want {
			t.Fatalf("%+v: %q, want %q", r, got, want)
		}
		got, ok := AddrFilter(r.Client)
		if want, wantOK := addrFilterReference(r.Client); got != want || ok != wantOK {
			t.Fatalf("AddrFilter(%q) = %q %v, want %q %v", r.Client, got, ok, want, wantOK)
		}
	}
	r := Record{Proto: "tcp", Client: "198.18.0.2", ClientPort: 48234, Server: "2001:2::1", ServerPort: 443}
	if n := testing.AllocsPerRun(100, func() { DisplayFilter(&r) }); n > 1 {
		t.Errorf("DisplayFilter allocates %v times, want 1", n)
	}
}
