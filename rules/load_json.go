package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// jsonRow is a row of the JSON shape; the same fields as YAML.
type jsonRow struct {
	ID           jsonID   `json:"id"`
	Purpose      string   `json:"purpose"`
	Pattern      string   `json:"pattern"`
	Patterns     []string `json:"patterns"`
	CIDR         string   `json:"cidr"`
	CIDRs        []string `json:"cidrs"`
	Ports        string   `json:"ports"`
	Required     *bool    `json:"required"`
	NoInspection bool     `json:"no_inspection"`
	Notes        string   `json:"notes"`
	Probe        []string `json:"probe"`
}

// jsonID accepts an id written as a string or a number, as the M365 service writes them.
type jsonID string

// UnmarshalJSON lets ids be numbers or strings.
func (id *jsonID) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*id = jsonID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return errors.New("expected a string or a number")
	}
	*id = jsonID(n.String())
	return nil
}

// jsonDoc walks a JSON document token by token, so every row keeps the offset it starts at.
type jsonDoc struct {
	b     *builder
	data  []byte
	dec   *json.Decoder
	lines *lineIndex
}

func newJSONDoc(b *builder, data []byte) *jsonDoc {
	return &jsonDoc{b: b, data: data, dec: json.NewDecoder(bytes.NewReader(data)), lines: newLineIndex(data)}
}

func (b *builder) json(data []byte) error {
	d := newJSONDoc(b, data)
	if err := d.delim('{', "an object with a \"rules\" list"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for d.dec.More() {
		at := d.next()
		tok, err := d.dec.Token()
		if err != nil {
			return d.err(err, at, "")
		}
		key, _ := tok.(string)
		if !slices.Contains(fileFields, key) {
			return at.errorf(b.file, "unknown field %q (expected one of %s)", key, strings.Join(fileFields, ", "))
		}
		if seen[key] {
			return at.errorf(b.file, "field %q given twice", key)
		}
		seen[key] = true
		if err := d.field(key); err != nil {
			return err
		}
	}
	if err := d.delim('}', "end of object"); err != nil {
		return err
	}
	return d.end()
}

func (d *jsonDoc) field(key string) error {
	at := d.next()
	switch key {
	case "rules":
		return d.rows()
	case "proxy":
		var m map[string]bool
		if err := d.dec.Decode(&m); err != nil {
			return d.err(err, at, key)
		}
		for k := range m {
			if !slices.Contains(proxyFields, k) {
				return at.errorf(d.b.file, "proxy: unknown field %q (expected one of %s)", k, strings.Join(proxyFields, ", "))
			}
		}
		d.b.proxy = proxySetting{set: true, given: m}
		return nil
	case "microsoft_suffixes", "add_microsoft_suffixes":
		var list []string
		if err := d.dec.Decode(&list); err != nil {
			return d.err(err, at, key)
		}
		ps := make([]posString, len(list))
		for i, s := range list {
			ps[i] = posString{s: s, at: at}
		}
		if key == "add_microsoft_suffixes" {
			d.b.addSuffixes = ps
		} else {
			d.b.hasSuffixes, d.b.suffixes = true, ps
		}
		return nil
	default:
		var s string
		return d.err(d.dec.Decode(&s), at, key)
	}
}

func (d *jsonDoc) rows() error {
	if err := d.delim('[', "a list of rows"); err != nil {
		return err
	}
	for d.dec.More() {
		off := d.nextOffset()
		at := d.lines.pos(off)
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return d.err(err, at, "")
		}
		rs, err := d.row(raw, off, at)
		if err != nil {
			return err
		}
		if err := d.b.add(rs); err != nil {
			return err
		}
	}
	return d.delim(']', "end of the rules list")
}

func (d *jsonDoc) row(raw json.RawMessage, off int64, at pos) (rowSpec, error) {
	var jr jsonRow
	if err := d.decodeObject(raw, off, at, &jr, rowFields); err != nil {
		return rowSpec{}, err
	}
	rs := rowSpec{at: at, id: string(jr.ID), purpose: jr.Purpose, notes: jr.Notes, required: true,
		noInspection: jr.NoInspection}
	if jr.Required != nil {
		rs.required = *jr.Required
	}
	for _, p := range append(nonEmpty(jr.Pattern), jr.Patterns...) {
		rs.patterns = append(rs.patterns, posString{s: p, at: at})
	}
	for _, c := range append(nonEmpty(jr.CIDR), jr.CIDRs...) {
		rs.cidrs = append(rs.cidrs, posString{s: c, at: at})
	}
	rs.ports = []posString{{s: jr.Ports, at: at, proto: TCP, field: "ports"}}
	for _, h := range jr.Probe {
		rs.probes = append(rs.probes, posString{s: h, at: at, field: "probe"})
	}
	return rs, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// decodeObject decodes one object strictly (unknown fields are errors); off is where raw starts in the file.
func (d *jsonDoc) decodeObject(raw json.RawMessage, off int64, at pos, v any, known []string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err != nil && strings.HasPrefix(err.Error(), "json: unknown field ") {
		return at.errorf(d.b.file, "%s (expected one of %s)",
			strings.TrimPrefix(err.Error(), "json: "), strings.Join(known, ", "))
	}
	if err != nil {
		return d.errAt(err, off, at)
	}
	return nil
}

// nextOffset is where the next value starts: after the decoder's offset, past blanks, commas and colons.
func (d *jsonDoc) nextOffset() int64 {
	off := d.dec.InputOffset()
	for off < int64(len(d.data)) && strings.IndexByte(" \t\r\n,:", d.data[off]) >= 0 {
		off++
	}
	return off
}

func (d *jsonDoc) next() pos { return d.lines.pos(d.nextOffset()) }

func (d *jsonDoc) delim(want json.Delim, what string) error {
	at := d.next()
	tok, err := d.dec.Token()
	if err != nil {
		return d.err(err, at, "")
	}
	if got, ok := tok.(json.Delim); !ok || got != want {
		return at.errorf(d.b.file, "expected %s, found %s", what, describeToken(tok))
	}
	return nil
}

func (d *jsonDoc) end() error {
	at := d.next()
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return at.errorf(d.b.file, "unexpected data after the end of the document")
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", t.String())
	case string:
		return fmt.Sprintf("the string %q", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// err places an error of the top-level decoder; field names what was being read.
func (d *jsonDoc) err(err error, at pos, field string) error {
	if err == nil {
		return nil
	}
	if field != "" {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return offsetPos(d.data, te.Offset).errorf(d.b.file, "%s: expected %s, found a JSON %s",
				field, goTypeWord(te.Type.String()), te.Value)
		}
	}
	return d.errAt(err, 0, at)
}

// errAt places an error of encoding/json, whose offsets are relative to base.
func (d *jsonDoc) errAt(err error, base int64, at pos) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return offsetPos(d.data, base+max(se.Offset-1, 0)).errorf(d.b.file, "json: %v", se)
	case errors.As(err, &te):
		return offsetPos(d.data, base+max(te.Offset-1, 0)).errorf(d.b.file, "%s: expected %s, found a JSON %s",
			te.Field, goTypeWord(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return offsetPos(d.data, int64(len(d.data))).errorf(d.b.file, "json: unexpected end of file")
	}
	return at.errorf(d.b.file, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func goTypeWord(t string) string {
	switch {
	case t == "string", t == "rules.jsonID":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a list of strings"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a number"
	case strings.Contains(t, "jsonRow"), strings.Contains(t, "m365Entry"):
		return "an object"
	}
	return t
}
