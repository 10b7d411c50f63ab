package rules

import (
	"net/netip"
	"strings"
	"testing"
)

// mustTable parses an inline YAML table, failing the test on error.
func mustTable(t testing.TB, name, yamlText string) *Table {
	t.Helper()
	tb, err := ParseTable(name, []byte(strings.TrimLeft(yamlText, "\n")))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return tb
}

func mustLoad(t testing.TB, specs ...string) *Table {
	t.Helper()
	tb, err := Load(specs)
	if err != nil {
		t.Fatalf("load %v: %v", specs, err)
	}
	return tb
}

func keyOf(r *Rule) string {
	if r == nil {
		return ""
	}
	return r.Key()
}

func keys(rs []*Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key()
	}
	return out
}

func mustAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
