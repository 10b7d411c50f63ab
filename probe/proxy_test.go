package probe

import (
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestProxyFromEnv(t *testing.T) {
	tests := []struct {
		name      string
		flag      string
		env       map[string]string
		host      string
		https     string // proxy for a TLS probe of host, "" direct
		http      string // proxy for an HTTP probe of host
		err, warn string
	}{
		{name: "none set", host: "a.example.com"},
		{name: "upper https", env: map[string]string{"HTTPS_PROXY": "proxy:3128"}, host: "a.example.com", https: "http://proxy:3128"},
		{name: "lower wins", env: map[string]string{"HTTPS_PROXY": "up:1", "https_proxy": "low:2"}, host: "a.example.com", https: "http://low:2"},
		{name: "upper HTTP_PROXY ignored as curl does", env: map[string]string{"HTTP_PROXY": "up:1"}, host: "a.example.com"},
		{name: "lower http_proxy", env: map[string]string{"http_proxy": "http://p:8080"}, host: "a.example.com", http: "http://p:8080"},
		{name: "all_proxy fallback", env: map[string]string{"ALL_PROXY": "p:1", "https_proxy": "q:2"}, host: "a.example.com",
			https: "http://q:2", http: "http://p:1"},
		{name: "default port 1080", env: map[string]string{"https_proxy": "p"}, host: "a.example.com", https: "http://p:1080"},
		{name: "credentials dropped", env: map[string]string{"https_proxy": "http://u:secret@p:3128"}, host: "a.example.com",
			https: "http://p:3128", warn: "credentials in the proxy URL are ignored"},
		{name: "no_proxy suffix", env: map[string]string{"https_proxy": "p:1", "no_proxy": "example.com"}, host: "a.example.com"},
		{name: "no_proxy leading dot", env: map[string]string{"https_proxy": "p:1", "NO_PROXY": ".example.com"}, host: "a.example.com"},
		{name: "no_proxy itself", env: map[string]string{"https_proxy": "p:1", "no_proxy": ".example.com"}, host: "example.com"},
		{name: "no_proxy label boundary", env: map[string]string{"https_proxy": "p:1", "no_proxy": "ample.com"}, host: "example.com",
			https: "http://p:1"},
		{name: "no_proxy star", env: map[string]string{"https_proxy": "p:1", "no_proxy": "*"}, host: "anything.net"},
		{name: "no_proxy list with blanks", env: map[string]string{"https_proxy": "p:1", "no_proxy": "foo.org, example.com"}, host: "a.example.com"},
		{name: "no_proxy cidr", env: map[string]string{"https_proxy": "p:1", "no_proxy": "198.18.0.0/15"}, host: "198.18.1.10"},
		{name: "no_proxy cidr miss", env: map[string]string{"https_proxy": "p:1", "no_proxy": "198.18.0.0/15"}, host: "192.0.2.1",
			https: "http://p:1"},
		{name: "lower no_proxy wins", env: map[string]string{"https_proxy": "p:1", "no_proxy": "other.org", "NO_PROXY": "example.com"},
			host: "a.example.com", https: "http://p:1"},
		{name: "socks refused", env: map[string]string{"https_proxy": "socks5://p:1"}, err: "proxy scheme \"socks5\" not supported"},
		{name: "flag", flag: "http://198.18.0.1:3128", env: map[string]string{"https_proxy": "p:1"}, host: "a.example.com",
			https: "http://198.18.0.1:3128", http: "http://198.18.0.1:3128"},
		{name: "flag keeps no_proxy", flag: "198.18.0.1:3128", env: map[string]string{"no_proxy": "example.com"}, host: "a.example.com"},
		{name: "flag none", flag: "none", env: map[string]string{"https_proxy": "p:1", "http_proxy": "p:1"}, host: "a.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ProxyFromFlag(tt.flag, envOf(tt.env))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				m    Method
				want string
			}{{MethodTLS, tt.https}, {MethodHTTP, tt.http}, {MethodNTP, ""}} {
				got := ""
				if u := p.For(tt.host, c.m); u != nil {
					got = u.String()
				}
				if got != c.want {
					t.Errorf("%s probe of %s: proxy %q, want %q", c.m, tt.host, got, c.want)
				}
			}
			if w := strings.Join(p.Warnings, "; "); tt.warn != "" && !strings.Contains(w, tt.warn) || tt.warn == "" && w != "" {
				t.Errorf("warnings %q, want %q", w, tt.warn)
			}
			if strings.Contains(p.Describe(), "secret") {
				t.Errorf("Describe leaks credentials: %s", p.Describe())
			}
		})
	}
}
