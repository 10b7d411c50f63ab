package analyze_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
	"github.com/intunecap/intunecap/result"
)

// proxyOracle reads proxies.tsv: for each recorded capture, the proxies its scenario used and how each proxy
// requirement must come out, written from what the scenario did (tinyproxy :3128 without authentication and
// with a filter that answers 403, :3129 with Basic authentication). A capture the file does not name used no
// proxy, and must show none.
func proxyOracle(t *testing.T) map[string][]string {
	h, rows := pcaptest.ReadTSV(t, filepath.Join(recordedDir, "proxies.tsv"))
	if !slices.Equal(h, []string{"file", "address", "http", "https", "unauthenticated", "auth_schemes"}) {
		t.Fatalf("proxies.tsv header %q", h)
	}
	want := map[string][]string{}
	for _, r := range rows {
		want[r[0]] = append(want[r[0]], strings.Join(r[1:], " "))
	}
	return want
}

// proxyLines gives each proxy of a summary in proxies.tsv's columns.
func proxyLines(s *result.Summary) []string {
	var out []string
	for _, p := range s.Proxies {
		schemes := strings.Join(p.AuthSchemes, ",")
		if schemes == "" {
			schemes = "-"
		}
		r := p.Requirements
		out = append(out, strings.Join([]string{p.Address, string(r.HTTP), string(r.HTTPS), string(r.Unauthenticated), schemes}, " "))
	}
	return out
}

// checkProxies compares a summary's proxies with the oracle's rows for its capture (none: no proxy, and no
// proxy requirement rows either).
func checkProxies(t *testing.T, s *result.Summary, want []string) {
	t.Helper()
	if got := proxyLines(s); !slices.Equal(got, want) {
		t.Errorf("proxies\n%q\nwant (proxies.tsv)\n%q", got, want)
	}
	if len(want) == 0 {
		for _, r := range s.Rules {
			if r.Table == "proxy" {
				t.Errorf("no proxy was used, yet a proxy requirement row %s", r.Key)
			}
		}
	}
}
