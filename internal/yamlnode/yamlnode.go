// Package yamlnode holds what the strict YAML loaders of rule tables and expectation files share: following a
// node through documents and aliases, and how a node is described in an error message.
package yamlnode

import (
	"strconv"

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
