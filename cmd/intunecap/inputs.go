package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// captureExts are the file names a directory argument is searched for, gzipped or not.
var captureExts = []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz"}

// expandInputs turns the command line's capture arguments into files: shell-style patterns the shell left
// alone (quoted, or on systems whose shell does not) are expanded, so a pipeline can pass "captures/*.pcapng";
// a directory stands for the capture files directly in it, sorted by name. A pattern that matches nothing is
// an error, and so is a directory with no capture file in it.
func expandInputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		matches := []string{a}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("bad pattern %q: %w", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: no file matches", a)
			}
			matches = m
		}
		for _, path := range matches {
			files, err := dirCaptures(path)
			if err != nil {
				return nil, err
			}
			out = append(out, files...)
		}
	}
	return out, nil
}

// dirCaptures returns the capture files in path when it is a directory, or path itself otherwise.
func dirCaptures(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return []string{path}, nil // capture.Open says what is wrong with a file
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && isCaptureName(e.Name()) {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s is a directory with no capture file in it (%s)", path, strings.Join(captureExts, ", "))
	}
	slices.Sort(files)
	return files, nil
}

func isCaptureName(name string) bool {
	lower := strings.ToLower(name)
	return slices.ContainsFunc(captureExts, func(ext string) bool { return strings.HasSuffix(lower, ext) })
}

// errSameFile is returned when an output would overwrite an input.
var errSameFile = errors.New("is also an input: refusing to overwrite it (choose another output file)")

// refuseInputs fails when output (a file about to be written; "" or "-" is standard output) is one of inputs,
// by path or by being the same file (a hard link, a symbolic link, another spelling of the path).
func refuseInputs(flag, output string, inputs []string) error {
	if output == "" || output == "-" {
		return nil
	}
	out, outErr := os.Stat(output)
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		same := filepath.Clean(in) == filepath.Clean(output)
		if !same && outErr == nil {
			if st, err := os.Stat(in); err == nil {
				same = os.SameFile(st, out)
			}
		}
		if same {
			return fmt.Errorf("%s %s %w", flag, output, errSameFile)
		}
	}
	return nil
}
