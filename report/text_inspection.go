package report

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// maxInspectionIssuers bounds the issuers the text report follows; connections under further issuers are
// counted together.
const maxInspectionIssuers = 20

// inspection counts, per certificate issuer, the connections to Microsoft names (listed or unlisted) whose
// chain was not the server's own: TLS inspection.
type inspection struct {
	issuers map[string]*issuerCount
	left    int // connections under issuers past maxInspectionIssuers
}

// issuerCount is one issuer's connections and the requirements they were for.
type issuerCount struct {
	conns    int
	unlisted int             // of those, to unlisted Microsoft names
	rules    map[string]bool // requirement keys
}

// add counts r when its name is a Microsoft one and its chain says it was intercepted, or verified only to
// a --trust root (the company's own CA, trusted on purpose: the connection is allowed, but inspected).
func (in *inspection) add(r *result.Record) {
	trusted := r.CertRootStore == result.RootStoreTrustFile
	if r.CertChain != "private" && r.CertChain != "name-mismatch" && !trusted {
		return
	}
	if r.RuleKey == "" && r.Verdict != rules.Unlisted {
		return
	}
	issuer := r.CertIssuer
	if issuer == "" {
		issuer = "an unnamed issuer"
	}
	if trusted {
		issuer += ", trusted with --trust"
	}
	c := in.issuers[issuer]
	if c == nil {
		if len(in.issuers) >= maxInspectionIssuers {
			in.left++
			return
		}
		if in.issuers == nil {
			in.issuers = map[string]*issuerCount{}
		}
		c = &issuerCount{rules: map[string]bool{}}
		in.issuers[issuer] = c
	}
	c.conns++
	if r.RuleKey != "" {
		c.rules[r.RuleKey] = true
	} else {
		c.unlisted++
	}
}

// renderInspection lists the issuers that answered for Microsoft names, most connections first.
func (t *textWriter) renderInspection(b *bytes.Buffer) {
	in := &t.inspect
	if len(in.issuers) == 0 {
		return
	}
	b.WriteString("\nTLS inspection (certificates not from the servers; exempt these names from inspection)\n")
	names := slices.SortedFunc(maps.Keys(in.issuers), func(x, y string) int {
		return cmp.Or(cmp.Compare(in.issuers[y].conns, in.issuers[x].conns), cmp.Compare(x, y))
	})
	for _, name := range names {
		c := in.issuers[name]
		head := "  TLS inspection by " + safetext.Text(clip(name, 60)) + ":"
		counts := plural(c.conns, "connection") + " to " + plural(len(c.rules), "requirement")
		if c.unlisted > 0 {
			counts += fmt.Sprintf(" (%d to unlisted names)", c.unlisted)
		}
		line := head + " " + counts
		if utf8.RuneCountInString(line) > reportWidth {
			line = head + "\n    " + counts // a long issuer: the counts go on their own line
		}
		b.WriteString(paint(t.opts.Color, colorRed, line) + "\n")
	}
	if in.left > 0 {
		fmt.Fprintf(b, "  and %s under other issuers\n", plural(in.left, "connection"))
	}
}

// clip cuts s to at most n runes, marking the cut, so a long issuer keeps the line within 100 columns.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
