package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/annotate"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/rules"
)

const annotateUsage = `usage: intunecap annotate [flags] -o OUT.pcapng FILE...

Write the capture back as pcapng with each record's verdict as a packet comment on its
first frame, the frame that named it and the frame that decided it. Packets are copied
unchanged. In Wireshark: frame.comment contains "intunecap: blocked".

Exit status: 0 written, 2 usage error or unreadable input.

Flags:
`

// annotateFlags holds the annotate command's options.
type annotateFlags struct {
	output  string
	rules   []string
	colors  string
	workers int
}

func runAnnotate(args []string, stdout, stderr io.Writer) int {
	var f annotateFlags
	fs := pflag.NewFlagSet("annotate", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVarP(&f.output, "output", "o", "", "write the annotated capture to `FILE` (pcapng)")
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge")
	fs.StringVar(&f.colors, "wireshark-colors", "", "also write Wireshark coloring rules for the comments to `FILE`")
	fs.IntVarP(&f.workers, "workers", "w", defaultWorkers(runtime.GOMAXPROCS(0)), "analyze with `N` engines in parallel")
	fs.Usage = func() { fmt.Fprint(stderr, annotateUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "intunecap annotate: %v\nRun 'intunecap annotate -h' for usage.\n", err)
		return 2
	}
	st, err := annotateFiles(&f, fs.Args(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap annotate: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "intunecap annotate: wrote %s: %d packets, %d comments\n", f.output, st.Packets, st.Comments)
	return 0
}

// annotateFiles runs the analysis pass, then the copying pass into a temporary file renamed over the output.
func annotateFiles(f *annotateFlags, args []string, stderr io.Writer) (annotate.Stats, error) {
	var st annotate.Stats
	if f.output == "" || f.output == "-" {
		return st, errors.New("-o OUT.pcapng is required (the output is binary; it is not written to a terminal)")
	}
	if len(args) == 0 {
		return st, errors.New("no capture file given")
	}
	paths, err := expandInputs(args)
	if err != nil {
		return st, err
	}
	if err := refuseInputs("-o", f.output, paths); err != nil {
		return st, err
	}
	if err := refuseInputs("--wireshark-colors", f.colors, paths); err != nil {
		return st, err
	}
	table, err := rules.Load(f.rules)
	if err != nil {
		return st, err
	}
	reader, err := capture.Open(paths)
	if err != nil {
		return st, err
	}
	marks := annotate.NewMarks(paths, 0)
	p := pipeline{Reader: reader, Paths: paths, Table: table, FailOn: []rules.Verdict{}, Sink: marks,
		Stderr: stderr, Prefix: "intunecap annotate", Workers: f.workers}
	_, runErr := p.run()
	if err := errors.Join(runErr, reader.Close()); err != nil {
		return st, err
	}
	if marks.Dropped > 0 {
		fmt.Fprintf(stderr, "intunecap annotate: warning: %d comments over the cap of %d were not written\n",
			marks.Dropped, annotate.DefaultMaxMarks)
	}
	st, err = writeAtomic(f.output, func(w io.Writer) (annotate.Stats, error) { return annotate.Write(w, paths, marks) })
	if err != nil {
		return st, err
	}
	if st.Unplaced > 0 {
		fmt.Fprintf(stderr, "intunecap annotate: warning: %d comments found no frame to go on\n", st.Unplaced)
	}
	if f.colors != "" {
		err = writeFileAtomic(f.colors, colorFilters())
	}
	return st, err
}

// writeAtomic writes through write into a file that replaces path only when everything was written, so a
// failed run leaves what was there before.
func writeAtomic[T any](path string, write func(io.Writer) (T, error)) (T, error) {
	f, err := createAtomic(path)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := write(f)
	if err != nil {
		f.abort()
		return v, fmt.Errorf("write %s: %w", path, err)
	}
	return v, f.commit()
}

// colorFilters is the coloring-rules file for intunecap's comments (annotate.WriteColorFilters, which cannot
// fail on a buffer).
func colorFilters() []byte {
	var b bytes.Buffer
	annotate.WriteColorFilters(&b)
	return b.Bytes()
}
