package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
)

// maxTextDevices bounds the devices the text report lists; the JSON report carries more.
const maxTextDevices = 10

// renderDevices writes the "Devices" section of the text report: each client address with its records per
// verdict and the requirements it failed, the most failing first. It reads the summary's devices (filled by
// withDevices) and writes nothing when there are none.
func renderDevices(b *bytes.Buffer, s *result.Summary, color bool) {
	if s == nil || len(s.Devices) == 0 {
		return
	}
	noun := "client addresses"
	if s.DevicesTotal == 1 {
		noun = "client address"
	}
	fmt.Fprintf(b, "\nDevices\n  %d %s", s.DevicesTotal, noun)
	if s.DevicesUntracked > 0 {
		fmt.Fprintf(b, " tracked (%s from further clients not broken down)", plural(s.DevicesUntracked, "record"))
	}
	b.WriteString("\n")
	patterns := map[string]string{}
	for _, r := range s.Rules {
		patterns[r.Key] = r.Pattern
	}
	tb := table{indent: "  "}
	tb.add("", "CLIENT", "RECORDS", "FAILING", "VERDICTS")
	shown := s.Devices[:min(len(s.Devices), maxTextDevices)]
	for _, d := range shown {
		c := ""
		if d.Failing > 0 {
			c = colorRed
		}
		tb.add(c, safetext.Text(d.Address), strconv.Itoa(d.Records), strconv.Itoa(d.Failing),
			countList(verdictCounts(d.Verdicts)))
		if len(d.Failed) > 0 { // on a line of its own, wrapped: the list can be long
			tb.below("failed: " + failedPatterns(d.Failed, patterns))
		}
	}
	tb.render(b, color)
	if rest := s.DevicesTotal - len(shown); rest > 0 {
		fmt.Fprintf(b, "  … and %d more\n", rest)
	}
}

// failedPatterns names failed requirement rows by their pattern, falling back to the key.
func failedPatterns(keys []string, patterns map[string]string) string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if p := patterns[k]; p != "" {
			out = append(out, safetext.Text(p))
		} else {
			out = append(out, safetext.Text(k))
		}
	}
	return strings.Join(out, ", ")
}
