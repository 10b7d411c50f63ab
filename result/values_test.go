package result

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// definedValues reads values.go and returns, per enumerated type, the values of the constants declared with
// that type: the code's one table, read from the source so that a constant added there cannot be forgotten.
func definedValues(t *testing.T) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "values.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			typ, ok := vs.Type.(*ast.Ident)
			if !ok || len(vs.Values) != 1 {
				t.Fatalf("values.go: constant %s needs an explicit type and one value", vs.Names[0])
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Fatalf("values.go: constant %s is not a string literal", vs.Names[0])
			}
			v, _ := strconv.Unquote(lit.Value)
			out[typ.Name] = append(out[typ.Name], v)
		}
	}
	return out
}

var backticked = regexp.MustCompile("`([^`]+)`")

// documentedValues reads docs/report.md: the first column of the States and Stages tables, and the values
// the field table lists for transport and name_source.
func documentedValues(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	out := map[string][]string{
		"State": tableColumn(t, lines, "## States"),
		"Stage": tableColumn(t, lines, "## Stages"),
	}
	for typ, field := range map[string]string{"Transport": "transport", "NameSource": "name_source",
		"NameConfidence": "name_confidence", "RootStore": "cert_root_store"} {
		row := fieldRow(t, lines, field)
		cells := strings.Split(row, "|")
		for _, m := range backticked.FindAllStringSubmatch(cells[len(cells)-2], -1) {
			out[typ] = append(out[typ], m[1])
		}
	}
	return out
}

// tableColumn returns the backticked first cells of the first table after the heading.
func tableColumn(t *testing.T, lines []string, heading string) []string {
	i := slices.Index(lines, heading)
	if i < 0 {
		t.Fatalf("docs/report.md has no %q section", heading)
	}
	var vals []string
	inTable := false
	for _, l := range lines[i+1:] {
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if m := backticked.FindStringSubmatch(strings.SplitN(l, "|", 3)[1]); m != nil {
			vals = append(vals, m[1])
		}
	}
	return vals
}

// fieldRow returns the row of the JSONL field table that documents field.
func fieldRow(t *testing.T, lines []string, field string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, "| `"+field+"`") {
			return l
		}
	}
	t.Fatalf("docs/report.md documents no field %q", field)
	return ""
}

// TestDocumentedValues holds docs/report.md and values.go together: every value the code can write is
// documented, and every documented value is one the code defines.
func TestDocumentedValues(t *testing.T) {
	code, docs := definedValues(t), documentedValues(t)
	for _, typ := range []string{"State", "Stage", "Transport", "NameSource", "NameConfidence", "RootStore"} {
		c, d := slices.Sorted(slices.Values(code[typ])), slices.Sorted(slices.Values(docs[typ]))
		if len(c) == 0 {
			t.Errorf("values.go defines no %s", typ)
		}
		if !slices.Equal(c, d) {
			t.Errorf("%s: values.go defines %v, docs/report.md lists %v", typ, c, d)
		}
	}
}
