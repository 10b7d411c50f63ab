package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProxyPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	row := "rules:\n  - pattern: a.example.com\n    ports: \"443\"\n"
	noHTTP := write("nohttp.yaml", "name: a\nproxy:\n  require_http: false\n"+row)
	auth := write("auth.json", `{"name": "b", "proxy": {"allow_authentication": true}, "rules": [{"pattern": "b.example.com", "ports": "443"}]}`)
	bad := write("bad.yaml", "name: c\nproxy:\n  require_ftp: true\n"+row)
	badJSON := write("bad.json", `{"name": "d", "proxy": {"require_ftp": true}, "rules": [{"pattern": "d.example.com"}]}`)
	tests := []struct {
		specs []string
		want  ProxyPolicy
		err   string
	}{
		{nil, DefaultProxyPolicy(), ""},
		{[]string{"intune-current"}, DefaultProxyPolicy(), ""},
		{[]string{"intune-2015", noHTTP}, ProxyPolicy{RequireHTTPS: true}, ""},
		{[]string{noHTTP, auth}, ProxyPolicy{RequireHTTPS: true, AllowAuthentication: true}, ""},
		{[]string{auth}, ProxyPolicy{RequireHTTP: true, RequireHTTPS: true, AllowAuthentication: true}, ""},
		{[]string{bad}, ProxyPolicy{}, "require_ftp"},
		{[]string{badJSON}, ProxyPolicy{}, "require_ftp"},
	}
	for _, tc := range tests {
		tab, err := Load(tc.specs)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one naming %q", tc.specs, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.specs, err)
		}
		if tab.Proxy != tc.want {
			t.Errorf("%v: policy %+v, want %+v", tc.specs, tab.Proxy, tc.want)
		}
	}
}
