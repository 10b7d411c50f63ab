// Package allowlist turns an analysis summary into what the people who run the firewall or proxy paste into
// their configuration: the requirements that failed (or all that were seen), as a plain name list, squid ACL
// lines, a PAC file, a CSV sheet, or a list of names to exempt from TLS inspection.
//
// Each format writes what it can express exactly and a comment line for what it cannot, so nothing is
// silently dropped and nothing is widened without saying so. Output depends on the summary and options alone.
package allowlist

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/result"
)

// Options are what the command line decides.
type Options struct {
	// All selects every requirement the capture saw (any record matched it), not only the failing ones.
	All bool
	// PACProxy is the "host:port" a PAC file sends every other name to; the pac format requires it.
	PACProxy string
}

// Formats lists the names Write accepts.
func Formats() []string { return []string{"fqdn", "squid", "pac", "csv", "no-inspection"} }

// entry is one selected requirement row with its parsed pattern.
type entry struct {
	row    result.RuleSummary
	target target
	err    error // the pattern could not be read; written as a comment
}

// Write writes the selected requirements of s in format to w.
func Write(format string, w io.Writer, s *result.Summary, opts Options) error {
	if s == nil {
		return errors.New("write allow-list: no summary (the analysis ended early)")
	}
	entries := selectRows(s, opts.All)
	var err error
	switch format {
	case "fqdn":
		err = writeFQDN(w, entries, header(s, opts, format))
	case "squid":
		err = writeSquid(w, entries, header(s, opts, format))
	case "pac":
		if err = CheckProxy(opts.PACProxy); err == nil {
			err = writePAC(w, entries, header(s, opts, format), opts.PACProxy)
		}
	case "csv":
		err = writeCSV(w, entries)
	case "no-inspection":
		err = writeNoInspection(w, entries, header(s, opts, format))
	default:
		return fmt.Errorf("write allow-list: unknown format %q (want %s)", format, strings.Join(Formats(), ", "))
	}
	if err != nil {
		return fmt.Errorf("write %s allow-list: %w", format, err)
	}
	return nil
}

// CheckProxy validates a PAC proxy given as host:port, so a typo fails before a long analysis.
func CheckProxy(hostPort string) error {
	if hostPort == "" {
		return errors.New("the pac format needs --pac-proxy HOST:PORT, the proxy for every other name")
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return fmt.Errorf("--pac-proxy %q: %w", hostPort, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("--pac-proxy %q: port %q is not between 1 and 65535", hostPort, port)
	}
	if host == "" || checkChars(strings.ToLower(host)) != nil && net.ParseIP(host) == nil {
		return fmt.Errorf("--pac-proxy %q: %q is not a host name or address", hostPort, host)
	}
	return nil
}

// selectRows picks the failing rows, or with all every row a record matched, in table order. Note rows
// (no pattern) never match and are skipped.
func selectRows(s *result.Summary, all bool) []entry {
	var out []entry
	for _, r := range s.Rules {
		if r.Pattern == "" || !selected(r, all) {
			continue
		}
		t, err := parseTarget(r.Pattern)
		out = append(out, entry{row: r, target: t, err: err})
	}
	return out
}

func selected(r result.RuleSummary, all bool) bool {
	if r.Status == "failing" {
		return true
	}
	if !all {
		return false
	}
	if r.Status == "ok" {
		return true
	}
	for _, n := range r.Verdicts {
		if n > 0 {
			return true
		}
	}
	return false
}

// evidence is how many records matched the row.
func evidence(r result.RuleSummary) int {
	n := 0
	for _, c := range r.Verdicts {
		n += c
	}
	return n
}

// header is the first comment lines of the formats that have comments: what was selected, from what.
func header(s *result.Summary, opts Options, format string) []string {
	what := "the failing requirements"
	if opts.All {
		what = "every requirement the capture saw"
	}
	lines := []string{"intunecap allow-list (" + format + "): " + what}
	if len(s.Capture.Files) > 0 {
		lines = append(lines, "capture: "+strings.Join(s.Capture.Files, ", "))
	}
	return lines
}

// commentText makes s safe inside a one-line comment of any format: control characters, line and paragraph
// separators (JavaScript line terminators) and other non-printing runes become spaces.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff ||
			(r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return ' '
		}
		return r
	}, s)
}

// describe is a row's identity for comments: "*.manage.microsoft.com (intune-2015:1, ports 80,443)".
func describe(r result.RuleSummary) string {
	return commentText(fmt.Sprintf("%s (%s, ports %s, %s)", r.Pattern, r.Key, r.Ports, r.Status))
}
