package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

const analyzeUsage = `usage: intunecap analyze [flags] FILE...

Analyze capture files and give a verdict for every connection and DNS lookup, then a
summary per Intune requirement. FILE may be pcap or pcapng, gzipped or not, or "-" for
standard input, or a directory (its capture files, sorted); several files (or globs)
are read as one capture, merged by time.

Exit status: 0 pass; 1 fail: a record has a verdict in --fail-on, or traffic to an
unlisted Microsoft name was blocked or reset; 2 usage error, no packet could be read,
or -o names an input; 3 inconclusive: nothing failed but the capture cannot tell (no
Intune traffic in it, or too many packets undecodable or lost; --allow-empty passes
a capture with no Intune traffic).

Flags:
`

// analyzeFlags holds the analyze command's options.
type analyzeFlags struct {
	format     string
	rules      []string
	failOn     string
	output     string
	color      string
	verbose    bool
	wide       bool
	allowEmpty bool
	workers    int
	quiet      bool
	limits     analyze.Options // the memory caps; zero fields take the engine's defaults
	cpuProf    string
	memProf    string
	extra      extraOutputs // --report, --allowlist and their options
	trust      string       // --trust: extra CA certificates (PEM)
}

func runAnalyze(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f analyzeFlags
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVarP(&f.format, "format", "f", "text", "output `FORMAT`: text, jsonl, json or html")
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge (default intune-2015)")
	fs.StringVar(&f.failOn, "fail-on", "blocked,reset,intercepted", "`VERDICTS` that make the exit status 1, comma-separated, or \"none\"")
	fs.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringVar(&f.color, "color", "auto", "colour the text report: `WHEN` is auto, always or never (NO_COLOR is honoured)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "text report: list every connection, not only problems")
	fs.BoolVar(&f.wide, "wide", false, "text report: one line per record, however long (for grep)")
	fs.BoolVar(&f.allowEmpty, "allow-empty", false, "pass, not inconclusive, when no Intune traffic is seen")
	fs.IntVarP(&f.workers, "workers", "w", defaultWorkers(runtime.GOMAXPROCS(0)),
		"analyze with `N` engines in parallel, one fewer than the cores by default (the report is the same for any N)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display on standard error")
	fs.IntVar(&f.limits.MaxConnections, "max-connections", analyze.DefaultMaxConnections, "connections tracked at once; beyond, the oldest idle are reported and dropped (`N`)")
	fs.IntVar(&f.limits.MaxDNSNames, "max-dns-names", analyze.DefaultMaxDNSNames, "DNS answers remembered to name connections (`N`)")
	fs.StringVar(&f.cpuProf, "cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	fs.StringVar(&f.memProf, "memprofile", "", "write a Go heap profile to `FILE` at the end (alloc_space: all the run allocated)")
	registerTrust(fs, &f.trust)
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
	verifier, err := loadVerifier(f.trust)
	if err != nil {
		return 2, err
	}
	paths, err := expandInputs(args)
	if err != nil {
		return 2, err
	}
	if err := refuseInputs("-o", f.output, append(paths, args...)); err != nil {
		return 2, err
	}
	if err := f.extra.refuseInputs(append(paths, args...)); err != nil {
		return 2, err
	}
	f.extra.inputs = paths
	reader, err := capture.Open(paths)
	if err != nil {
		return 2, err
	}
	defer reader.Close()
	out, err := openOutput(f.output, stdout)
	if err != nil {
		return 2, err
	}
	color := useColor(f.color, out.w)
	buffered := bufio.NewWriterSize(out.w, 256<<10) // a report is read when the run ends: one write per line is waste
	w, err := report.New(f.format, buffered, report.Options{Color: color, FailOn: failOn, Verbose: f.verbose,
		Wide: f.wide, AllowEmpty: f.allowEmpty})
	if err != nil {
		out.finish(false)
		return 2, err
	}
	sink, err := f.extra.sink(w, failOn, stdout)
	if err != nil {
		out.finish(false)
		return 2, err
	}
	judge := newJudge(sink, table, outcome.Policy{FailOn: failOn, AllowEmpty: f.allowEmpty})
	p := pipeline{Reader: reader, Paths: paths, Table: table, FailOn: failOn, Sink: judge, Stderr: stderr,
		Prefix: "intunecap analyze", Workers: f.workers, Limits: f.limits, Verifier: verifier,
		Source: func(r *capture.Reader) analyze.Source {
			return withProgress(r, stderr, !f.quiet && isTerminal(stderr))
		}}
	_, err = p.run()
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = buffered.Flush()
	}
	// The first error is the one to show: after a write error every later write fails the same way. A run
	// that failed writes no report (the buffer is dropped; a file keeps its old contents), nor any --report
	// or --allowlist file.
	err = cmp.Or(err, out.finish(err == nil))
	if err := cmp.Or(err, f.extra.finish(judge.Final(), err == nil, stdout)); err != nil {
		out.finish(false)
		return 2, err
	}
	return exitStatus(judge.Final()), nil
}

// exitStatus is the exit status of an analysis: its outcome's (0, 1 or 3), or 3 when no summary came.
func exitStatus(s *result.Summary) int {
	if s == nil {
		return outcome.Inconclusive.ExitCode()
	}
	return outcome.Outcome(s.Outcome).ExitCode()
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
