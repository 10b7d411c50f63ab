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

// ExpandedSize counts the nodes the document under n stands for once every alias is replaced by what it
// names, and fails when they are more than limit: a few kilobytes of anchors and aliases, each alias naming
// a list of aliases, can stand for billions of nodes, which a walk that follows aliases (Deref) would visit
// one by one. The count takes time linear in the nodes written, whatever they expand to: the size of each
// anchored node is counted once.
func ExpandedSize(n *yaml.Node, limit int64) (int64, error) {
	c := expansion{limit: limit, sizes: map[*yaml.Node]int64{}}
	size := c.size(n, 0)
	if size > limit {
		return size, fmt.Errorf("yaml document stands for more than %d nodes once its aliases are expanded", limit)
	}
	return size, nil
}

// expansion is the state of ExpandedSize: the sizes of the anchored nodes counted so far.
type expansion struct {
	limit int64
	sizes map[*yaml.Node]int64
}

// maxDepth bounds the nesting ExpandedSize follows; yaml.v3's parser stops at about 10,000 levels already,
// and an alias cannot name a node that contains it.
const maxDepth = 20_000

// size counts n's nodes, returning more than the limit as soon as the count passes it.
func (c *expansion) size(n *yaml.Node, depth int) int64 {
	if n == nil {
		return 0
	}
	if depth > maxDepth {
		return c.limit + 1
	}
	if n.Kind == yaml.AliasNode {
		return 1 + c.size(n.Alias, depth+1)
	}
	if s, ok := c.sizes[n]; ok {
		return s
	}
	total := int64(1)
	for _, child := range n.Content {
		total += c.size(child, depth+1)
		if total > c.limit {
			break
		}
	}
	if n.Anchor != "" {
		c.sizes[n] = total
	}
	return total
}
