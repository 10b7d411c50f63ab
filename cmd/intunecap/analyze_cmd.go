package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/rules"
)

const analyzeUsage = `usage: intunecap analyze [flags] FILE...

Analyze capture files and give a verdict for every connection and DNS lookup, then a
summary per Intune requirement. FILE may be pcap or pcapng, gzipped or not, or "-" for
standard input; several files (or globs) are read as one capture, merged by time.

Exit status: 0 nothing failed, 1 some record has a verdict in --fail-on,
2 usage error or no packet could be read.

Flags:
`

// analyzeFlags holds the analyze command's options.
type analyzeFlags struct {
	format  string
	rules   []string
	failOn  string
	output  string
	color   string
	verbose bool
	workers int
	quiet   bool
	limits  analyze.Options // the memory caps; zero fields take the engine's defaults
	cpuProf string
	memProf string
	extra   extraOutputs // --report, --allowlist and their options
}

func runAnalyze(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f analyzeFlags
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVarP(&f.format, "format", "f", "text", "output `FORMAT`: text, jsonl, json or html")
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge (default intune-2015)")
	fs.StringVar(&f.failOn, "fail-on", "blocked,reset", "`VERDICTS` that make the exit status 1, comma-separated, or \"none\"")
	fs.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringVar(&f.color, "color", "auto", "colour the text report: `WHEN` is auto, always or never (NO_COLOR is honoured)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "text report: list every connection, not only problems")
	fs.IntVarP(&f.workers, "workers", "w", defaultWorkers(runtime.GOMAXPROCS(0)),
		"analyze with `N` engines in parallel, one fewer than the cores by default (the report is the same for any N)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display on standard error")
	fs.IntVar(&f.limits.MaxConnections, "max-connections", analyze.DefaultMaxConnections, "connections tracked at once; beyond, the oldest idle are reported and dropped (`N`)")
	fs.IntVar(&f.limits.MaxDNSNames, "max-dns-names", analyze.DefaultMaxDNSNames, "DNS answers remembered to name connections (`N`)")
	fs.StringVar(&f.cpuProf, "cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	fs.StringVar(&f.memProf, "memprofile", "", "write a Go heap profile to `FILE` at the end (alloc_space: all the run allocated)")
	f.extra.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, analyzeUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "intunecap analyze: %v\nRun 'intunecap analyze -h' for usage.\n", err)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "intunecap analyze: no capture file given (use - for standard input)")
		return 2
	}
	stop, err := startCPUProfile(f.cpuProf)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap analyze: %v\n", err)
		return 2
	}
	defer stop()
	code, err := analyzeFiles(&f, fs.Args(), stdin, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap analyze: %v\n", err)
	}
	if err := writeHeapProfile(f.memProf); err != nil {
		fmt.Fprintf(stderr, "intunecap analyze: %v\n", err)
		return max(code, 2)
	}
	return code
}

// analyzeFiles runs the analysis and returns the exit status with the error that explains a status 2.
func analyzeFiles(f *analyzeFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return 2, err
	}
	if err := f.extra.validate(); err != nil {
		return 2, err
	}
	if f.limits.MaxConnections < 1 || f.limits.MaxDNSNames < 1 {
		return 2, errors.New("--max-connections and --max-dns-names must be at least 1")
	}
	if f.workers < 1 || f.workers > 256 {
		return 2, fmt.Errorf("--workers: %d is not between 1 and 256", f.workers)
	}
	if f.color != "auto" && f.color != "always" && f.color != "never" {
		return 2, fmt.Errorf("--color: %q is not auto, always or never", f.color)
	}
	table, err := rules.Load(f.rules)
	if err != nil {
		return 2, err
	}
	paths, err := expandGlobs(args)
	if err != nil {
		return 2, err
	}
	reader, err := capture.Open(paths)
	if err != nil {
		return 2, err
	}
	defer reader.Close()
	out, closeOut, err := openOutput(f.output, stdout)
	if err != nil {
		return 2, err
	}
	color := useColor(f.color, out)
	buffered := bufio.NewWriterSize(out, 256<<10) // a report is read when the run ends: one write per line is waste
	w, err := report.New(f.format, buffered, report.Options{Color: color, FailOn: failOn, Verbose: f.verbose})
	if err != nil {
		closeOut()
		return 2, err
	}
	sink, err := f.extra.sink(w, failOn, stdout)
	if err != nil {
		closeOut()
		return 2, err
	}
	p := pipeline{Reader: reader, Paths: paths, Table: table, FailOn: failOn, Sink: sink, Stderr: stderr,
		Prefix: "intunecap analyze", Workers: f.workers, Limits: f.limits,
		WrapSource: func(r *capture.Reader) analyze.Source {
			return withProgress(r, stderr, !f.quiet && isTerminal(stderr))
		}}
	summary, runErr := p.run()
	if err := errors.Join(runErr, w.Close(), buffered.Flush(), closeOut(), f.extra.finish(summary, runErr == nil, stdout)); err != nil {
		return 2, err
	}
	if summary.Failing > 0 {
		return 1, nil
	}
	return 0, nil
}

// parseFailOn reads --fail-on; "none" (or an empty value) never fails.
func parseFailOn(s string) ([]rules.Verdict, error) {
	if s == "" || s == "none" {
		return []rules.Verdict{}, nil
	}
	v, err := rules.ParseVerdicts(s)
	if err != nil {
		return nil, fmt.Errorf("--fail-on: %w", err)
	}
	return v, nil
}

// expandGlobs expands shell-style patterns the shell left alone (quoted, or on systems whose shell does not),
// so a pipeline can pass "captures/*.pcapng". A pattern that matches nothing is kept, and fails to open.
func expandGlobs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "-" || !strings.ContainsAny(a, "*?[") {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no file matches", a)
		}
		out = append(out, m...)
	}
	return out, nil
}

// openOutput opens -o FILE, or returns stdout. Only the path the user named is ever written.
func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open output: %w", err)
	}
	return f, f.Close, nil
}

// useColor decides on ANSI colour: never with NO_COLOR, always or never when asked, else only on a terminal.
func useColor(mode string, out io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return isTerminal(out)
}

// startCPUProfile writes a CPU profile to path until the returned function is called; "" profiles nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the Go heap profile to path; "" writes nothing.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("heap profile %s: %w", path, err)
	}
	return nil
}

// defaultWorkers is the number of engines for a machine with cores CPUs: one core goes to reading and
// decoding (a single pcap file is read ahead on a goroutine of its own), the others to engines. On two cores
// one engine, pipelined behind the reading goroutine, is faster than two (docs/performance.md).
func defaultWorkers(cores int) int { return max(1, cores-1) }
