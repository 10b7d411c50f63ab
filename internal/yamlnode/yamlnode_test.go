package yamlnode

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"{a: 1}", "a mapping"},
		{"[1, 2]", "a list"},
		{"~", "null"},
		{"hello", `"hello"`},
		{strings.Repeat("x", 50), `"` + strings.Repeat("x", 40) + `..."`},
	}
	for _, tt := range tests {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tt.doc), &doc); err != nil {
			t.Fatal(err)
		}
		if got := Describe(doc.Content[0]); got != tt.want {
			t.Errorf("Describe(%q) = %s, want %s", tt.doc, got, tt.want)
		}
	}
}
