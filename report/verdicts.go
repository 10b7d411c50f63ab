package report

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/rules"
)

// compareVerdicts orders known verdicts as rules.Verdicts lists them (a stable order that reads better than the
// alphabet) and any other word after them, alphabetically.
func compareVerdicts(a, b rules.Verdict) int {
	order := rules.Verdicts()
	ia, ib := slices.Index(order, a), slices.Index(order, b)
	if ia < 0 {
		ia = len(order)
	}
	if ib < 0 {
		ib = len(order)
	}
	if ia != ib {
		return cmp.Compare(ia, ib)
	}
	return cmp.Compare(a, b)
}

// sortedVerdicts returns the keys of m in verdict order.
func sortedVerdicts[V any](m map[rules.Verdict]V) []rules.Verdict {
	return slices.SortedFunc(maps.Keys(m), compareVerdicts)
}

// countList formats counts as "2 blocked, 1 reset" in verdict order, skipping zeros.
func countList(m map[rules.Verdict]int) string {
	var b strings.Builder
	for _, v := range sortedVerdicts(m) {
		if m[v] == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(m[v]))
		b.WriteByte(' ')
		b.WriteString(safetext.Text(string(v)))
	}
	return b.String()
}

// verdictCounts converts a summary's string-keyed counts for countList.
func verdictCounts(m map[string]int) map[rules.Verdict]int {
	out := make(map[rules.Verdict]int, len(m))
	for k, n := range m {
		out[rules.Verdict(k)] += n
	}
	return out
}

// plural returns n and the noun, with an s when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
