package result

import "testing"

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
