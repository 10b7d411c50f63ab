package regress

import (
	"slices"
	"strconv"

	"github.com/intunecap/intunecap/rules"
)

func itoa(n int) string { return strconv.Itoa(n) }

// sortVerdicts orders verdicts alphabetically, the order expectations and messages use.
func sortVerdicts(v []rules.Verdict) { slices.Sort(v) }

// verdictList renders verdicts for messages: "allowed, reset".
func verdictList(v []rules.Verdict) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += string(x)
	}
	if s == "" {
		return "none"
	}
	return s
}

// countsText renders counts for messages, in report order: "allowed 6, blocked 1".
func countsText(c counts) string {
	s := ""
	for i, v := range rules.Verdicts() {
		if c[i] == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += string(v) + " " + itoa(c[i])
	}
	if s == "" {
		return "no records"
	}
	return s
}

// verdictAt is the verdict counts index i stands for.
func verdictAt(i int) rules.Verdict { return rules.Verdicts()[i] }
