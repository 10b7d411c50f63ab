// Package unitfile reads the parts of a systemd unit file that intunecap's tests check: the directives of one
// section and the words of ExecStart, split as systemd splits them for the quoting the unit uses.
package unitfile

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Section returns the directives of section (e.g. "Service") with their values in order: continued lines are
// joined and runs of blanks collapsed, and repeated keys such as SystemCallFilter= keep every value.
func Section(path, section string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read unit: %w", err)
	}
	defer f.Close()
	out := map[string][]string{}
	current, pending := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending != "" {
			line, pending = pending+" "+line, ""
		}
		if strings.HasSuffix(line, "\\") {
			pending = strings.TrimSuffix(line, "\\")
			continue
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			current = strings.Trim(line, "[]")
		case current == section:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("unit %s: %q is not KEY=VALUE", path, line)
			}
			out[key] = append(out[key], strings.Join(strings.Fields(value), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read unit %s: %w", path, err)
	}
	return out, nil
}

// ExecArgs splits an ExecStart value into words: blanks separate them, double quotes keep a word whole. It
// handles no escapes or single quotes; a unit that needs them is an error here rather than a wrong split.
func ExecArgs(value string) ([]string, error) {
	if strings.ContainsAny(value, `'\`) {
		return nil, fmt.Errorf("ExecStart %q: single quotes and escapes are not handled", value)
	}
	var args []string
	var word strings.Builder
	quoted, inWord := false, false
	for _, r := range value {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("ExecStart %q: unclosed quote", value)
	}
	if inWord {
		args = append(args, word.String())
	}
	return args, nil
}
