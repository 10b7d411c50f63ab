package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
)

func TestSOCKSInTheTextReport(t *testing.T) {
	two := 2
	r := result.Record{Client: "198.18.0.2", Server: "198.18.0.1", ServerPort: 1080, ViaProxy: true, Name: "wustat.microsoft.com",
		Port: 443, SOCKS: &result.SOCKS{Version: "5", Command: "connect", Reply: &two, Auth: "none"}}
	if got, want := serverCell(&r), "198.18.0.1:1080 (SOCKS5 proxy, reply 2)"; got != want {
		t.Errorf("server cell %q, want %q", got, want)
	}
	if got := narrowDetail(&r, false); !strings.Contains(got, "through the SOCKS5 proxy") {
		t.Errorf("detail %q does not say SOCKS", got)
	}
	r.SOCKS.Reply = nil
	if got, want := serverCell(&r), "198.18.0.1:1080 (SOCKS5 proxy)"; got != want {
		t.Errorf("server cell %q, want %q", got, want)
	}
	s := &result.Summary{Proxies: []result.Proxy{{Address: "198.18.0.1:1080", Clients: []string{"198.18.0.2"}, ClientsTotal: 1,
		SOCKS:        result.ProxyTraffic{Requests: 3, Status: map[string]int{"0": 2, "2": 1}},
		Requirements: result.ProxyRequirements{HTTP: result.ProxyNotSeen, HTTPS: result.ProxyNotSeen, Unauthenticated: result.ProxyOK}}}}
	var b bytes.Buffer
	renderProxies(&b, s, false)
	for _, want := range []string{"SOCKS only: Intune's clients use an HTTP proxy (CONNECT)", "HTTP: none; HTTPS: none; SOCKS: 3 requests (0: 2, 2: 1)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("proxies section lacks %q:\n%s", want, b.String())
		}
	}
}
