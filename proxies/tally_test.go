package proxies

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

func rec(client, transport string, status int, auth string) result.Record {
	return result.Record{Client: client, Server: "198.18.0.1", ServerPort: 3129, ViaProxy: true,
		Transport: result.Transport(transport), ProxyStatus: status, ProxyAuth: auth}
}

func TestProxies(t *testing.T) {
	tests := []struct {
		name    string
		records []result.Record
		policy  rules.ProxyPolicy
		want    string // the one proxy as JSON, its requirements and counts
	}{
		{"both work, no auth", []result.Record{rec("198.18.0.2", "connect", 200, ""), rec("198.18.0.2", "http", 200, "")},
			rules.DefaultProxyPolicy(), `{"http":"ok","https":"ok","unauthenticated":"ok"}`},
		{"https only", []result.Record{rec("198.18.0.2", "connect", 200, ""), rec("198.18.0.3", "tls", 200, "")},
			rules.DefaultProxyPolicy(), `{"http":"not-seen","https":"ok","unauthenticated":"ok"}`},
		{"basic auth, later authenticated", []result.Record{rec("198.18.0.2", "connect", 407, "Basic"), rec("198.18.0.2", "connect", 200, "")},
			rules.DefaultProxyPolicy(), `{"http":"not-seen","https":"ok","unauthenticated":"failing"}`},
		{"everything refused", []result.Record{rec("198.18.0.2", "connect", 403, ""), rec("198.18.0.2", "http", 0, ""), rec("198.18.0.2", "http", 502, "")},
			rules.DefaultProxyPolicy(), `{"http":"failing","https":"failing","unauthenticated":"ok"}`},
		{"authentication allowed, http not required", []result.Record{rec("198.18.0.2", "connect", 407, "NTLM, Negotiate")},
			rules.ProxyPolicy{RequireHTTPS: true, AllowAuthentication: true}, `{"https":"failing"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tally := New()
			for i := range tc.records {
				tally.Add(&tc.records[i])
			}
			got := tally.Proxies(tc.policy)
			if len(got) != 1 {
				t.Fatalf("%d proxies, want 1", len(got))
			}
			b, _ := json.Marshal(got[0].Requirements)
			if string(b) != tc.want {
				t.Errorf("requirements %s, want %s", b, tc.want)
			}
			if got[0].Address != "198.18.0.1:3129" || got[0].Intercepting {
				t.Errorf("address %q intercepting %v", got[0].Address, got[0].Intercepting)
			}
		})
	}
}

func TestProxyCountsAndSchemes(t *testing.T) {
	tally := New()
	for _, r := range []result.Record{
		rec("198.18.0.3", "connect", 407, "Negotiate, NTLM"), rec("198.18.0.2", "connect", 407, "NTLM, Basic"),
		rec("198.18.0.2", "connect", 200, ""), rec("198.18.0.10", "http", 503, ""), rec("198.18.0.2", "http", 404, ""),
	} {
		tally.Add(&r)
	}
	p := tally.Proxies(rules.DefaultProxyPolicy())[0]
	b, _ := json.Marshal(p)
	want := `{"address":"198.18.0.1:3129","clients":["198.18.0.2","198.18.0.3","198.18.0.10"],"clients_total":3,` +
		`"http":{"requests":2,"status":{"5xx":1,"other":1}},"https":{"requests":3,"status":{"200":1,"407":2}},` +
		`"auth_required":true,"auth_schemes":["Negotiate","NTLM","Basic"],"requirements":{"http":"failing","https":"ok","unauthenticated":"failing"}}`
	if string(b) != want {
		t.Errorf("proxy\n got %s\nwant %s", b, want)
	}
	if f := p.Failing(); fmt.Sprint(f) != "[http unauthenticated]" {
		t.Errorf("Failing() = %v", f)
	}
}

func TestInterceptingProxyOnADirectPath(t *testing.T) {
	tally := New()
	for _, r := range []result.Record{
		{Client: "198.18.0.2", Server: "198.18.1.10", ServerPort: 80, Transport: "http", ProxyStatus: 407, ProxyAuth: "Basic"},
		{Client: "198.18.0.2", Server: "198.18.1.11", ServerPort: 80, Transport: "http", ProxyVia: true, ProxyStatus: 200},
		{Client: "198.18.0.2", Server: "198.18.1.12", ServerPort: 443, Transport: "tls"}, // a plain direct connection
	} {
		tally.Add(&r)
	}
	got := tally.Proxies(rules.DefaultProxyPolicy())
	if len(got) != 1 || !got[0].Intercepting || !got[0].AuthRequired || got[0].Address != "198.18.1.10:80" {
		b, _ := json.Marshal(got)
		t.Fatalf("want one intercepting proxy asking for authentication (a Via alone names none): %s", b)
	}
}

func TestNoProxyNoEntries(t *testing.T) {
	tally := New()
	tally.Add(&result.Record{Client: "198.18.0.2", Server: "198.18.1.12", ServerPort: 443, Transport: "tls"})
	if got := tally.Proxies(rules.DefaultProxyPolicy()); len(got) != 0 {
		t.Errorf("%d proxies from a direct connection", len(got))
	}
}

func TestMergeEqualsOneTally(t *testing.T) {
	recs := []result.Record{rec("198.18.0.2", "connect", 407, "Basic"), rec("198.18.0.3", "http", 200, ""),
		rec("198.18.0.2", "connect", 200, ""), {Client: "198.18.0.4", Server: "198.18.0.5", ServerPort: 8080, ViaProxy: true, Transport: "connect"}}
	one, a, b := New(), New(), New()
	for i := range recs {
		one.Add(&recs[i])
		if i%2 == 0 {
			a.Add(&recs[i])
		} else {
			b.Add(&recs[i])
		}
	}
	a.Merge(b)
	x, _ := json.Marshal(one.Proxies(rules.DefaultProxyPolicy()))
	y, _ := json.Marshal(a.Proxies(rules.DefaultProxyPolicy()))
	if string(x) != string(y) {
		t.Errorf("merged\n%s\nwant\n%s", y, x)
	}
}

func TestCaps(t *testing.T) {
	tally := New()
	for i := range MaxProxies + 5 {
		r := result.Record{Client: "198.18.0.2", Server: "198.19.0.1", ServerPort: uint16(i + 1), ViaProxy: true, Transport: "connect"}
		tally.Add(&r)
	}
	if n := len(tally.Proxies(rules.DefaultProxyPolicy())); n != MaxProxies || tally.Untracked != 5 {
		t.Errorf("%d proxies, %d untracked", n, tally.Untracked)
	}
	one := New()
	for i := range MaxClientsPerProxy + 50 {
		r := rec(fmt.Sprintf("198.18.%d.%d", i/250, i%250+1), "connect", 200, "")
		one.Add(&r)
	}
	p := one.Proxies(rules.DefaultProxyPolicy())[0]
	if len(p.Clients) != MaxClientsPerProxy || p.ClientsTotal != MaxClientsPerProxy+50 {
		t.Errorf("%d clients listed, total %d", len(p.Clients), p.ClientsTotal)
	}
}

// socksRec is a SOCKS request through the proxy with the given reply code (nil: no reply) and SOCKS5 method.
func socksRec(client, version string, reply *int, auth string) result.Record {
	return result.Record{Client: client, Server: "198.18.0.1", ServerPort: 1080, ViaProxy: true,
		Transport: result.TransportSOCKS, SOCKS: &result.SOCKS{Version: version, Command: "connect", Reply: reply, Auth: auth}}
}

func code(c int) *int { return &c }

// TestSOCKS: SOCKS requests are counted by reply code, meet neither the HTTP nor the HTTPS requirement, and a
// SOCKS5 authentication method counts as the proxy asking for authentication.
func TestSOCKS(t *testing.T) {
	tests := []struct {
		name    string
		records []result.Record
		want    string // the proxy's socks traffic, requirements and auth, as JSON
	}{
		{"socks only, working", []result.Record{socksRec("198.18.0.2", "5", code(0), "none"), socksRec("198.18.0.2", "4", code(90), "")},
			`{"requests":2,"status":{"0":1,"90":1}} {"http":"not-seen","https":"not-seen","unauthenticated":"ok"} false []`},
		{"refused and unanswered", []result.Record{socksRec("198.18.0.2", "5", code(2), "none"), socksRec("198.18.0.3", "4a", nil, "")},
			`{"requests":2,"status":{"2":1,"no-answer":1}} {"http":"not-seen","https":"not-seen","unauthenticated":"ok"} false []`},
		{"username method", []result.Record{socksRec("198.18.0.2", "5", code(0), "username")},
			`{"requests":1,"status":{"0":1}} {"http":"not-seen","https":"not-seen","unauthenticated":"failing"} true ["SOCKS5 username"]`},
		{"beside CONNECT", []result.Record{socksRec("198.18.0.2", "5", code(0), "none"),
			{Client: "198.18.0.2", Server: "198.18.0.1", ServerPort: 1080, ViaProxy: true, Transport: result.TransportConnect, ProxyStatus: 403}},
			`{"requests":1,"status":{"0":1}} {"http":"not-seen","https":"failing","unauthenticated":"ok"} false []`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tally := New()
			for i := range tc.records {
				tally.Add(&tc.records[i])
			}
			other := New() // the same records through a merge: the counts must not change
			other.Merge(tally)
			got := other.Proxies(rules.DefaultProxyPolicy())
			if len(got) != 1 {
				t.Fatalf("%d proxies, want 1", len(got))
			}
			traffic, _ := json.Marshal(got[0].SOCKS)
			reqs, _ := json.Marshal(got[0].Requirements)
			schemes, _ := json.Marshal(got[0].AuthSchemes)
			if s := fmt.Sprintf("%s %s %v %s", traffic, reqs, got[0].AuthRequired, schemes); s != strings.ReplaceAll(tc.want, "[]", "null") && s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
		})
	}
}

// TestSOCKSOmittedWhenNone: a proxy without SOCKS requests has no "socks" key in its JSON.
func TestSOCKSOmittedWhenNone(t *testing.T) {
	tally := New()
	r := rec("198.18.0.2", "connect", 200, "")
	tally.Add(&r)
	b, _ := json.Marshal(tally.Proxies(rules.DefaultProxyPolicy()))
	if strings.Contains(string(b), `"socks"`) {
		t.Errorf("socks key without SOCKS requests: %s", b)
	}
}
