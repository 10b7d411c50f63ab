package regress

import (
	"os"
	"strings"
	"testing"
)

// TestDocsExample keeps the full example of docs/ci.md valid: it must parse and resolve against its table.
func TestDocsExample(t *testing.T) {
	data, err := os.ReadFile("../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, "```yaml\n# intune.expect.yaml")
	if start < 0 {
		t.Fatal("docs/ci.md has no expectations example")
	}
	body := doc[start+len("```yaml\n"):]
	body = body[:strings.Index(body, "```")]
	e, err := Parse("ci.md", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Resolve(table2015(t)); err != nil {
		t.Fatal(err)
	}
	if len(e.Requirements) != 3 || len(e.Names) != 3 || len(e.Max) != 3 || len(e.NeverUnlisted) != 3 {
		t.Errorf("example parsed to %+v", e)
	}
}
