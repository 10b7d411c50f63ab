package rules

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/intunecap/intunecap/internal/yamlnode"
)

// The fields of a table file and of a row, in the order the error messages list them.
var (
	fileFields = []string{"name", "source", "microsoft_suffixes", "add_microsoft_suffixes", "proxy", "rules"}
	rowFields  = []string{"id", "purpose", "pattern", "patterns", "cidr", "cidrs", "ports", "required",
		"no_inspection", "notes", "probe"}
)

// yaml reads the YAML shape through yaml.v3's node API, which keeps every value's line and column; fields
// are checked by hand, which is what KnownFields(true) does for struct decoding, but with positions.
func (b *builder) yaml(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &FileError{Path: b.file, Msg: "empty file (expected a rules table)"}
		}
		return b.yamlSyntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return b.yamlSyntax(err)
		}
		return nodePos(&extra).errorf(b.file, "a second YAML document (expected one table per file)")
	}
	if _, err := yamlnode.ExpandedSize(&root, maxYAMLNodes); err != nil {
		return &FileError{Path: b.file, Msg: err.Error()}
	}
	return b.yamlFile(yamlnode.Deref(&root))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlSyntax places a yaml.v3 syntax error; the parser reports a line but no column.
func (b *builder) yamlSyntax(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FileError{Path: b.file, Line: line, Msg: "yaml: " + msg[len(m[0]):]}
	}
	return &FileError{Path: b.file, Msg: msg}
}

func nodePos(n *yaml.Node) pos { return pos{line: n.Line, col: n.Column} }

func (b *builder) yamlFile(doc *yaml.Node) error {
	if doc == nil || doc.Kind != yaml.MappingNode {
		return b.expected(doc, "a mapping with a \"rules\" list")
	}
	return b.fields(doc, fileFields, func(key string, v *yaml.Node) error {
		var err error
		switch key {
		case "name", "source":
			_, err = b.scalar(v)
		case "microsoft_suffixes":
			b.hasSuffixes = true
			b.suffixes, err = b.strings(v)
		case "add_microsoft_suffixes":
			b.addSuffixes, err = b.strings(v)
		case "rules":
			err = b.yamlRows(v)
		case "proxy":
			err = b.yamlProxy(v)
		}
		return err
	})
}

// yamlProxy reads the table-level proxy policy: a mapping of require_http, require_https and
// allow_authentication to booleans.
func (b *builder) yamlProxy(v *yaml.Node) error {
	if v.Kind != yaml.MappingNode {
		return b.expected(v, "a mapping of "+strings.Join(proxyFields, ", "))
	}
	b.proxy = proxySetting{set: true, given: map[string]bool{}}
	return b.fields(v, proxyFields, func(key string, n *yaml.Node) error {
		val, err := b.bool(n)
		b.proxy.given[key] = val
		return err
	})
}

// fields walks a mapping, rejecting unknown and repeated keys and keys without a value.
func (b *builder) fields(m *yaml.Node, known []string, each func(key string, v *yaml.Node) error) error {
	err := yamlnode.Fields(m, known, true, func(key string, _, v *yaml.Node) error { return each(key, v) })
	var fe *yamlnode.FieldError
	if errors.As(err, &fe) {
		if fe.Expected != "" {
			return b.expected(fe.Node, fe.Expected)
		}
		return nodePos(fe.Node).errorf(b.file, "%s", fe.Msg)
	}
	return err
}

func (b *builder) yamlRows(seq *yaml.Node) error {
	if seq.Kind != yaml.SequenceNode {
		return b.expected(seq, "a list of rows")
	}
	for _, item := range seq.Content {
		item = yamlnode.Deref(item)
		if item == nil || item.Kind != yaml.MappingNode {
			return b.expected(item, "a row (a mapping with purpose, pattern, ports ...)")
		}
		rs, err := b.yamlRow(item)
		if err != nil {
			return err
		}
		if err := b.add(rs); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) yamlRow(m *yaml.Node) (rowSpec, error) {
	rs := rowSpec{at: nodePos(m), required: true}
	err := b.fields(m, rowFields, func(key string, v *yaml.Node) error {
		return b.yamlField(&rs, key, v)
	})
	return rs, err
}

func (b *builder) yamlField(rs *rowSpec, key string, v *yaml.Node) error {
	var err error
	var s string
	var list []posString
	switch key {
	case "pattern", "cidr", "ports":
		s, err = b.scalar(v)
		list = []posString{{s: s, at: nodePos(v), proto: TCP}}
	case "patterns", "cidrs", "probe":
		list, err = b.strings(v)
	case "required", "no_inspection":
		var flag bool
		flag, err = b.bool(v)
		if key == "required" {
			rs.required = flag
		} else {
			rs.noInspection = flag
		}
	default:
		s, err = b.scalar(v)
	}
	switch key {
	case "id":
		rs.id = s
	case "purpose":
		rs.purpose = s
	case "notes":
		rs.notes = s
	case "pattern", "patterns":
		rs.patterns = append(rs.patterns, list...)
	case "cidr", "cidrs":
		rs.cidrs = append(rs.cidrs, list...)
	case "ports":
		rs.ports = list
	case "probe":
		rs.probes = append(rs.probes, list...)
	}
	return err
}

func (b *builder) scalar(v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", b.expected(v, "a single value")
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return v.Value, nil
}

func (b *builder) bool(v *yaml.Node) (bool, error) {
	var flag bool
	if v.Kind != yaml.ScalarNode || v.Decode(&flag) != nil {
		return false, b.expected(v, "true or false")
	}
	return flag, nil
}

func (b *builder) strings(v *yaml.Node) ([]posString, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, b.expected(v, "a list")
	}
	out := make([]posString, 0, len(v.Content))
	for _, item := range v.Content {
		item = yamlnode.Deref(item)
		if item == nil || item.Kind != yaml.ScalarNode {
			return nil, b.expected(item, "a single value in the list")
		}
		out = append(out, posString{s: item.Value, at: nodePos(item), proto: TCP})
	}
	return out, nil
}

// expected reports what a node should have been, and what it was.
func (b *builder) expected(n *yaml.Node, want string) error {
	if n == nil {
		return &FileError{Path: b.file, Msg: "expected " + want}
	}
	return nodePos(n).errorf(b.file, "expected %s, found %s", want, yamlnode.Describe(n))
}
