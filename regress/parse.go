package regress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/intunecap/intunecap/internal/yamlnode"

	"github.com/intunecap/intunecap/rules"
)

// maxFileSize bounds an expectations file; a real one is a few kilobytes.
const maxFileSize = 1 << 20

// The fields of each part of an expectations file, in the order error messages list them.
var (
	topFields  = []string{"version", "rules", "requirements", "names", "max", "never_unlisted"}
	reqFields  = []string{"rule", "id", "pattern", "status", "verdicts", "note"}
	nameFields = []string{"name", "status", "verdicts", "note"}
)

// reqStatuses and nameStatuses are the words each kind of entry accepts.
var (
	reqStatuses  = []Status{StatusOK, StatusFailing, StatusNotSeen, StatusAny}
	nameStatuses = []Status{StatusOK, StatusFailing, StatusNotSeen, StatusOther, StatusAny}
)

// Load reads and parses an expectations file. Errors are *rules.FileError, placed at file:line:column.
func Load(path string) (*Expectations, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read expectations: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read expectations %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads an expectations file from memory; path is only used in messages. Unknown fields, repeated fields,
// wrong types and unknown words are errors: a typo must never turn an expectation into a silent pass.
func Parse(path string, data []byte) (exp *Expectations, err error) {
	p := &parser{file: path, exp: &Expectations{File: path}, seen: map[string]int{}}
	defer func() {
		if r := recover(); r != nil { // yaml.v3 is not known to panic; a crafted file must still not crash CI
			exp, err = nil, &rules.FileError{Path: path, Msg: fmt.Sprintf("cannot parse: %v", r)}
		}
	}()
	if len(data) > maxFileSize {
		return nil, &rules.FileError{Path: path, Msg: fmt.Sprintf("larger than %d bytes", maxFileSize)}
	}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	if err := p.top(root); err != nil {
		return nil, err
	}
	return p.exp, nil
}

// parser carries the file being read and the entries seen so far, to refuse duplicates.
type parser struct {
	file string
	exp  *Expectations
	seen map[string]int // "rule intune-2015:1", "name x" → line first given
}

// document decodes exactly one YAML document.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &rules.FileError{Path: p.file, Msg: "empty file (expected a mapping with requirements, names, max or never_unlisted)"}
		}
		return nil, p.syntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.syntax(err)
		}
		return nil, p.errAt(&extra, "a second YAML document (expected one per file)")
	}
	return yamlnode.Deref(&root), nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntax places a yaml.v3 syntax error; the parser gives a line but no column.
func (p *parser) syntax(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &rules.FileError{Path: p.file, Line: line, Msg: "yaml: " + msg[len(m[0]):]}
	}
	return &rules.FileError{Path: p.file, Msg: msg}
}

func (p *parser) top(doc *yaml.Node) error {
	if doc == nil || doc.Kind != yaml.MappingNode {
		return p.expected(doc, "a mapping with requirements, names, max or never_unlisted")
	}
	err := p.fields(doc, topFields, func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			return p.version(v)
		case "rules":
			p.exp.RulesAt = Pos(nodePos(k))
			list, err := p.strings(v)
			p.exp.Rules = list
			return err
		case "requirements":
			return p.list(v, "a requirement (a mapping with rule, id or pattern, and status)", p.requirement)
		case "names":
			return p.list(v, "a name (a mapping with name and status)", p.name)
		case "max":
			return p.maxes(v)
		}
		return p.neverUnlisted(v)
	})
	if err != nil {
		return err
	}
	e := p.exp
	if len(e.Requirements)+len(e.Names)+len(e.Max)+len(e.NeverUnlisted) == 0 {
		return nodePos(doc).errorf(p.file, "expects nothing (give requirements, names, max or never_unlisted)")
	}
	return nil
}

func (p *parser) version(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode || v.Value != "1" {
		return p.expected(v, "version 1")
	}
	return nil
}

// fields walks a mapping, rejecting unknown and repeated keys and keys without a value.
func (p *parser) fields(m *yaml.Node, known []string, each func(key string, k, v *yaml.Node) error) error {
	err := yamlnode.Fields(m, known, false, each)
	var fe *yamlnode.FieldError
	if errors.As(err, &fe) {
		if fe.Expected != "" {
			return p.expected(fe.Node, fe.Expected)
		}
		return nodePos(fe.Node).errorf(p.file, "%s", fe.Msg)
	}
	return err
}

// list calls item for every mapping of a sequence.
func (p *parser) list(seq *yaml.Node, what string, item func(*yaml.Node) error) error {
	if seq.Kind != yaml.SequenceNode {
		return p.expected(seq, "a list")
	}
	for _, n := range seq.Content {
		n = yamlnode.Deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return p.expected(n, what)
		}
		if err := item(n); err != nil {
			return err
		}
	}
	return nil
}

// once refuses an entry given twice, naming the line of the first.
func (p *parser) once(n *yaml.Node, key string) error {
	if line, ok := p.seen[key]; ok {
		return nodePos(n).errorf(p.file, "%s already expected at line %d", key, line)
	}
	p.seen[key] = n.Line
	return nil
}

// expected reports what a node should have been, and what it was.
func (p *parser) expected(n *yaml.Node, want string) error {
	if n == nil {
		return &rules.FileError{Path: p.file, Msg: "expected " + want}
	}
	return nodePos(n).errorf(p.file, "expected %s, found %s", want, yamlnode.Describe(n))
}

func (p *parser) errAt(n *yaml.Node, msg string) error {
	return nodePos(n).errorf(p.file, "%s", msg)
}

// scalar reads a single non-empty value.
func (p *parser) scalar(v *yaml.Node, what string) (string, error) {
	if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
		return "", p.expected(v, what)
	}
	return strings.TrimSpace(v.Value), nil
}

// strings reads a non-empty list of single values.
func (p *parser) strings(v *yaml.Node) ([]string, error) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return nil, p.expected(v, "a non-empty list")
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		item = yamlnode.Deref(item)
		if item == nil {
			return nil, p.expected(v, "a single value in the list")
		}
		s, err := p.scalar(item, "a single value in the list")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// words reads one word or a list of words, each one of allowed.
func (p *parser) words(v *yaml.Node, allowed []string) ([]string, error) {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{v}
	case yaml.SequenceNode:
		items = v.Content
	}
	if len(items) == 0 {
		return nil, p.expected(v, "one of "+strings.Join(allowed, ", ")+", or a list of them")
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		item = yamlnode.Deref(item)
		if item == nil || item.Kind != yaml.ScalarNode || !slices.Contains(allowed, item.Value) {
			return nil, p.expected(orNode(item, v), "one of "+strings.Join(allowed, ", "))
		}
		if slices.Contains(out, item.Value) {
			return nil, nodePos(item).errorf(p.file, "%q given twice", item.Value)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n == nil {
		return fallback
	}
	return n
}

// pos is where a node is; errorf builds the FileError every parse error is.
type pos Pos

func nodePos(n *yaml.Node) pos { return pos{Line: n.Line, Col: n.Column} }

func (at pos) errorf(path, format string, args ...any) *rules.FileError {
	return &rules.FileError{Path: path, Line: at.Line, Col: at.Col, Msg: fmt.Sprintf(format, args...)}
}
