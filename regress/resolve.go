package regress

import (
	"errors"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// Resolve finds the table rows every requirement names and fills its Keys. A reference no row answers to is an
// error at its line, never a silent pass; all such errors are returned together.
func (e *Expectations) Resolve(t *rules.Table) error {
	var errs []error
	for i := range e.Requirements {
		r := &e.Requirements[i]
		r.Keys = r.Keys[:0]
		for _, row := range t.Rules {
			if r.names(row) {
				r.Keys = append(r.Keys, row.Key())
			}
		}
		if len(r.Keys) == 0 {
			errs = append(errs, pos(r.At).errorf(e.File, "no requirement row has %s %q in rules %s%s",
				r.By, r.Ref, strings.Join(t.Sources, ", "), hint(r, t)))
		}
	}
	return errors.Join(errs...)
}

// names says whether the requirement refers to row.
func (r *Requirement) names(row *rules.Rule) bool {
	switch r.By {
	case "rule":
		return row.Key() == r.Ref
	case "id":
		return row.ID != "" && row.ID == r.Ref
	}
	return row.Pattern != "" && strings.EqualFold(row.Pattern, r.Ref)
}

// hint suggests the fix for the most common mistakes: a pattern written as a key, or the other way round.
func hint(r *Requirement, t *rules.Table) string {
	switch r.By {
	case "rule":
		if len(t.Rules) > 0 {
			first, last := t.Rules[0], t.Rules[len(t.Rules)-1]
			return " (keys are TABLE:ROW, here " + first.Key() + " to " + last.Key() + "; intunecap rules list shows them)"
		}
	case "pattern":
		return " (patterns must be written as in the table; intunecap rules list shows them)"
	}
	return ""
}
