package report

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/result"
)

// TestDocsListEveryField keeps docs/report.md's field contract complete: every JSON field of the result types
// must have a row in a table there.
func TestDocsListEveryField(t *testing.T) {
	doc, err := os.ReadFile("../docs/report.md")
	if err != nil {
		t.Fatalf("read field contract: %v", err)
	}
	types := []any{result.Record{}, result.Summary{}, result.RuleSummary{}, result.NameCount{},
		result.CaptureFacts{}, result.Quality{}, result.Device{}}
	for _, v := range types {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(string(doc), "| `"+name+"`") && !strings.Contains(string(doc), "`"+name+"` (") {
				t.Errorf("docs/report.md has no row for %s field %q", typ.Name(), name)
			}
		}
	}
}
