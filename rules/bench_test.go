package rules

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// genTable builds an n-row table of the four pattern forms over made-up domains (a quarter each exact,
// "*.x", "*x" and inner "a.*.x", like "autodiscover.*.onmicrosoft.com"), and names that hit and miss it.
// Names have the same shape either way, so hits and misses cost the same walk.
func genTable(n int) (tb *Table, hits, misses []string) {
	tb = &Table{MicrosoftSuffixes: DefaultMicrosoftSuffixes()}
	for i := 0; i < n; i++ {
		dom := fmt.Sprintf("svc%d.example%d.com", i, i%13)
		r := &Rule{Table: "gen", Row: i + 1, Ports: []PortRange{{TCP, 443, 443}}}
		switch i % 4 {
		case 0:
			r.Pattern, hits = dom, append(hits, dom)
		case 1:
			r.Pattern, hits = "*."+dom, append(hits, "a."+dom)
		case 2:
			r.Pattern, hits = "*"+dom, append(hits, "my"+dom)
		default:
			r.Pattern, hits = "a.*."+dom, append(hits, "a.b."+dom)
		}
		misses = append(misses, fmt.Sprintf("svc%d.example%d.net", i, i%13))
		tb.Rules = append(tb.Rules, r)
	}
	return tb, hits[:256], misses[:256]
}

var names2015Hit = []string{
	"a.manage.microsoft.com", "manage.microsoft.com", "fe2.update.microsoft.com", "au.download.windowsupdate.com",
	"login.microsoftonline.com", "go.microsoft.com", "c.microsoft.com", "ajax.googleapis.com",
}

var names2015Miss = []string{
	"manage.microsoft.com.evil.example", "notmanage.microsoft.com.example.org", "evilmicrosoftonline.com",
	"www.example.org", "x.microsoft.com", "time.windows.com", "settings-win.data.microsoft.com", "a.b.c.d",
}

func benchMatch(b *testing.B, m *Matcher, names []string) {
	b.ReportAllocs()
	var hits int
	i := 0
	for b.Loop() {
		if m.Match(names[i%len(names)], TCP, 443).Rule != nil {
			hits++
		}
		i++
	}
	if hits > i {
		b.Fatal("impossible")
	}
}

func BenchmarkMatch2015Hit(b *testing.B)  { benchMatch(b, NewMatcher(mustLoad(b)), names2015Hit) }
func BenchmarkMatch2015Miss(b *testing.B) { benchMatch(b, NewMatcher(mustLoad(b)), names2015Miss) }

func BenchmarkMatch10kHit(b *testing.B) {
	tb, hits, _ := genTable(10000)
	benchMatch(b, NewMatcher(tb), hits)
}

func BenchmarkMatch10kMiss(b *testing.B) {
	tb, _, misses := genTable(10000)
	benchMatch(b, NewMatcher(tb), misses)
}

func BenchmarkJudge2015(b *testing.B) {
	m := NewMatcher(mustLoad(b))
	names := append(append([]string{}, names2015Hit...), names2015Miss...)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Judge(names[i%len(names)], TCP, 443)
		i++
	}
}

func BenchmarkMatchAddrCurrent(b *testing.B) {
	m := NewMatcher(mustLoad(b, "intune-current"))
	addrs := []netip.Addr{netip.MustParseAddr("13.107.219.10"), netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("2620:1ec:40::1")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.MatchAddr(addrs[i%len(addrs)], TCP, 443)
		i++
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m := NewMatcher(mustLoad(t))
	names := append(append([]string{}, names2015Hit...), names2015Miss...)
	allocs := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			m.Judge(n, TCP, 443)
			m.MatchAddr(netip.IPv4Unspecified(), TCP, 443)
		}
	})
	if allocs != 0 {
		t.Errorf("Judge allocates %.1f times per run", allocs)
	}
	// Upper case takes the second walk; inner patterns read the head; long names stop at the longest key.
	w := NewMatcher(mustLoad(t, "intune-2015", "testdata/m365-worldwide.json"))
	mixed := []string{"A.Manage.Microsoft.COM.", "autodiscover.contoso.onmicrosoft.com",
		"AutoDiscover.Contoso.onmicrosoft.com", "autodiscover.Contoso.onmicrosoft.com",
		strings.Repeat("A.", 100) + "autodiscover.x.onmicrosoft.com"}
	allocs = testing.AllocsPerRun(100, func() {
		for _, n := range mixed {
			w.Judge(n, TCP, 443)
		}
	})
	if allocs != 0 {
		t.Errorf("Judge allocates %.1f times per run on mixed-case names", allocs)
	}
}
