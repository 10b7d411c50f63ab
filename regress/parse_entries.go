package regress

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/intunecap/intunecap/internal/yamlnode"

	"github.com/intunecap/intunecap/rules"
)

// requirement reads one entry of "requirements".
func (p *parser) requirement(m *yaml.Node) error {
	r := Requirement{At: Pos(nodePos(m))}
	var status *yaml.Node
	err := p.fields(m, reqFields, func(key string, k, v *yaml.Node) error {
		switch key {
		case "rule", "id", "pattern":
			if r.By != "" {
				return nodePos(k).errorf(p.file, "%s and %s both given (a requirement names rows one way)", r.By, key)
			}
			r.By = key
			return p.reference(&r, v)
		case "status":
			status = v
			s, err := p.statuses(v, reqStatuses)
			r.Status = s
			return err
		case "verdicts":
			vs, err := p.verdicts(v)
			r.Verdicts = vs
			return err
		}
		note, err := p.scalar(v, "a note")
		r.Note = note
		return err
	})
	if err != nil {
		return err
	}
	if r.By == "" {
		return p.errAt(m, "requirement without rule, id or pattern")
	}
	if status == nil && r.Verdicts == nil {
		return p.errAt(m, "requirement without status or verdicts (write status: any to only document it)")
	}
	if err := p.once(m, "requirement "+r.By+" "+r.Ref); err != nil {
		return err
	}
	p.exp.Requirements = append(p.exp.Requirements, r)
	return nil
}

// reference reads the rule key, id or pattern of a requirement; a pattern is checked and folded to ASCII.
func (p *parser) reference(r *Requirement, v *yaml.Node) error {
	s, err := p.scalar(v, "a "+r.By)
	if err != nil {
		return err
	}
	r.Ref = s
	if r.By == "pattern" {
		pat, err := normalizePattern(s)
		if err != nil {
			return nodePos(v).errorf(p.file, "%v", err)
		}
		r.Ref = pat
	}
	return nil
}

// name reads one entry of "names".
func (p *parser) name(m *yaml.Node) error {
	n := NameExpect{At: Pos(nodePos(m))}
	var status *yaml.Node
	err := p.fields(m, nameFields, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "name":
			n.Name, err = p.hostName(v)
		case "status":
			status = v
			n.Status, err = p.statuses(v, nameStatuses)
		case "verdicts":
			n.Verdicts, err = p.verdicts(v)
		default:
			n.Note, err = p.scalar(v, "a note")
		}
		return err
	})
	if err != nil {
		return err
	}
	if n.Name == "" {
		return p.errAt(m, "name entry without name")
	}
	if status == nil && n.Verdicts == nil {
		return p.errAt(m, "name entry without status or verdicts (write status: any to only document it)")
	}
	if err := p.once(m, "name "+n.Name); err != nil {
		return err
	}
	p.exp.Names = append(p.exp.Names, n)
	return nil
}

// hostName reads an exact name (no wildcard) and folds it to lower-case ASCII, the form records carry.
func (p *parser) hostName(v *yaml.Node) (string, error) {
	s, err := p.scalar(v, "a name")
	if err != nil {
		return "", err
	}
	if strings.Contains(s, "*") {
		return "", nodePos(v).errorf(p.file, "name %q has a wildcard (names are exact; use a requirement pattern or never_unlisted)", s)
	}
	name, err := normalizePattern(s)
	if err != nil {
		return "", nodePos(v).errorf(p.file, "%v", err)
	}
	return name, nil
}

func (p *parser) statuses(v *yaml.Node, allowed []Status) ([]Status, error) {
	words := make([]string, len(allowed))
	for i, s := range allowed {
		words[i] = string(s)
	}
	got, err := p.words(v, words)
	out := make([]Status, len(got))
	for i, w := range got {
		out[i] = Status(w)
	}
	return out, err
}

func (p *parser) verdicts(v *yaml.Node) ([]rules.Verdict, error) {
	got, err := p.words(v, verdictWords())
	if err != nil {
		return nil, err
	}
	out := make([]rules.Verdict, len(got))
	for i, w := range got {
		out[i] = rules.Verdict(w)
	}
	slices.Sort(out)
	return out, nil
}

func verdictWords() []string {
	var out []string
	for _, v := range rules.Verdicts() {
		out = append(out, string(v))
	}
	return out
}

// maxes reads "max", a mapping of verdict to the most records allowed with it.
func (p *parser) maxes(m *yaml.Node) error {
	if m.Kind != yaml.MappingNode {
		return p.expected(m, "a mapping of verdict to count, like {blocked: 0, reset: 0}")
	}
	return p.fields(m, verdictWords(), func(key string, k, v *yaml.Node) error {
		var n int
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil || n < 0 {
			return p.expected(v, "a count (0 or more)")
		}
		p.exp.Max = append(p.exp.Max, VerdictMax{At: Pos(nodePos(k)), Verdict: rules.Verdict(key), Max: n})
		return nil
	})
}

// neverUnlisted reads the list of names and patterns that must not be reported unlisted.
func (p *parser) neverUnlisted(v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return p.expected(v, "a list of names or patterns")
	}
	for _, item := range v.Content {
		item = yamlnode.Deref(item)
		if item == nil {
			return p.expected(v, "a name or pattern")
		}
		s, err := p.scalar(item, "a name or pattern")
		if err != nil {
			return err
		}
		pat, err := normalizePattern(s)
		if err != nil {
			return nodePos(item).errorf(p.file, "%v", err)
		}
		if err := p.once(item, "never_unlisted "+pat); err != nil {
			return err
		}
		p.exp.NeverUnlisted = append(p.exp.NeverUnlisted, UnlistedName{At: Pos(nodePos(item)), Pattern: pat})
	}
	return nil
}

// normalizePattern checks a name or pattern ("*.x", "*x", "x") and folds its literal to lower-case ASCII.
func normalizePattern(s string) (string, error) {
	star := ""
	switch {
	case strings.HasPrefix(s, "*."):
		star, s = "*.", s[2:]
	case strings.HasPrefix(s, "*"):
		star, s = "*", s[1:]
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", errBadName(star + s)
	}
	ascii, err := rules.ToASCII(s)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(ascii); i++ {
		c := ascii[i]
		if !(c == '.' || c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return "", errBadName(star + s)
		}
	}
	if strings.Contains(ascii, "..") || strings.HasPrefix(ascii, ".") {
		return "", errBadName(star + s)
	}
	return star + ascii, nil
}

type errBadName string

func (e errBadName) Error() string {
	return "bad name or pattern \"" + string(e) + "\" (expected a host name, \"*.example.com\" or \"*example.com\")"
}
