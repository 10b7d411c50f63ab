// Package yamlnode holds what the strict YAML loaders of rule tables and expectation files share: following a
// node through documents and aliases, and how a node is described in an error message.
package yamlnode

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Describe says what a node is, for "expected X, found Y" messages: a mapping, a list, null, or the scalar
// quoted (cut at 40 bytes, so a stray paragraph does not flood the terminal).
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		if len(n.Value) > 40 {
			return strconv.Quote(n.Value[:40] + "...")
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// Deref follows document and alias nodes to the node they stand for; nil for an empty document.
func Deref(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

// FieldError is what is wrong with a mapping's keys: either a node that is not what was Expected, or a Msg
// about a field. The loaders turn it into their own file:line:col error.
type FieldError struct {
	Node     *yaml.Node
	Expected string // "one of the fields a, b, c"; empty when Msg says it
	Msg      string
}

func (e *FieldError) Error() string {
	if e.Expected != "" {
		return "expected " + e.Expected + ", found " + Describe(e.Node)
	}
	return e.Msg
}

// Fields walks mapping m, whose keys must each be one of known, given once, and have a value (an explicit null
// counts as none unless nullOK). It calls each for every field in order and returns the first *FieldError, or
// the first error each returns.
func Fields(m *yaml.Node, known []string, nullOK bool, each func(key string, k, v *yaml.Node) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := Deref(m.Content[i]), Deref(m.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode || !slices.Contains(known, k.Value) {
			return &FieldError{Node: k, Expected: "one of the fields " + strings.Join(known, ", ")}
		}
		if seen[k.Value] {
			return &FieldError{Node: k, Msg: fmt.Sprintf("field %q given twice", k.Value)}
		}
		seen[k.Value] = true
		if v == nil || (!nullOK && v.Tag == "!!null") {
			return &FieldError{Node: k, Msg: fmt.Sprintf("field %q has no value", k.Value)}
		}
		if err := each(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}
