package yamlnode

import (
	"fmt"
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

func TestExpandedSize(t *testing.T) {
	fanout := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for l := 1; l <= 9; l++ { // 10^10 nodes in a few hundred bytes
		fanout += fmt.Sprintf("l%d: &l%d [", l, l) + strings.Repeat(fmt.Sprintf("*%s, ", prev(l)), 9) + "*" + prev(l) + "]\n"
	}
	tests := []struct {
		name string
		doc  string
		want int64 // -1: over the limit
	}{
		{"scalar", "x", 2},                     // document, scalar
		{"mapping", "a: 1\nb: [2, 3]\n", 8},    // document, mapping, a, 1, b, list, 2, 3
		{"alias", "a: &x [1, 2]\nb: *x\n", 11}, // the alias node, and the list it stands for: 1 + 3
		{"fan-out", fanout, -1},
	}
	for _, tt := range tests {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(tt.doc), &root); err != nil {
			t.Fatal(err)
		}
		got, err := ExpandedSize(&root, 1000)
		if tt.want < 0 {
			if err == nil || err.Error() != "yaml document stands for more than 1000 nodes once its aliases are expanded" {
				t.Errorf("%s: %d, %v", tt.name, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: ExpandedSize = %d, %v, want %d", tt.name, got, err, tt.want)
		}
	}
}

func prev(l int) string {
	if l == 1 {
		return "a"
	}
	return fmt.Sprintf("l%d", l-1)
}
