// Command hostile writes the hostile inputs of internal/hostile into a folder, to try intunecap on them by hand:
//
//	go run ./tools/hostile DIR
//	/usr/bin/time -v intunecap analyze DIR/pcap-2gib-frame.pcap.gz   # "Maximum resident set size"
//	intunecap analyze DIR/rotated/*.pcap
//	intunecap rules check DIR/rules-one-line.json DIR/rules-alias-fanout.yaml
//	/usr/bin/time -v intunecap analyze --workers 2 DIR/dns-cname-bomb.pcap.gz
//
// The files are a few megabytes in all; the tests make the same files at run time.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/intunecap/intunecap/internal/hostile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hostile DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "hostile: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	rotated := filepath.Join(dir, "rotated")
	if err := os.MkdirAll(rotated, 0o755); err != nil {
		return err
	}
	cases := append(hostile.Cases(), hostile.RuleFiles()...)
	for _, c := range append(cases, hostile.EngineCases()...) {
		if err := writeFile(filepath.Join(dir, c.Name), c.Write); err != nil {
			return err
		}
	}
	return hostile.Rotated(1500, 20, func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(rotated, name))
	})
}

// writeFile writes one case through a buffer.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
