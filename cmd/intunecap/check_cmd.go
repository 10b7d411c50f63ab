package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/regress"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

const checkUsage = `usage: intunecap check (--expect FILE | --baseline FILE) [flags] CAPTURE...

Check capture files against an expectations file (docs/ci.md), a baseline recorded with
"intunecap baseline", or both, and say PASS or FAIL for each expectation, with the
records behind every failure. Several files (or globs) are read as one capture, merged
by time. With --baseline, only what got worse fails: a requirement whose status got
worse (ok, not-seen, failing, best first), a name newly blocked or reset, a name
newly unlisted.

Exit status: 0 every check passed, 1 some check failed, 2 usage error, bad
expectations or baseline, or no packet could be read, 3 inconclusive: every check
passed but the captures cannot tell (no Intune traffic, or too much undecodable or
lost; --allow-empty accepts a capture with no Intune traffic).

Flags:
`

// checkFlags holds the check command's options.
type checkFlags struct {
	expect     string
	baseline   string
	rules      []string
	reports    []string
	quiet      bool
	allowEmpty bool
	trust      string // --trust: extra CA certificates (PEM)
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVarP(&f.expect, "expect", "e", "", "expectations `FILE` (YAML, see docs/ci.md)")
	fs.StringVarP(&f.baseline, "baseline", "b", "", "`BASELINE` file written by intunecap baseline")
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge (default: the expectations' or baseline's, else intune-2015)")
	fs.StringArrayVar(&f.reports, "report", nil, "also write a report: `FORMAT=FILE` with FORMAT one of "+strings.Join(checkReportFormats(), ", ")+"; repeatable")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print only failures, changes and the totals")
	fs.BoolVar(&f.allowEmpty, "allow-empty", false, "pass, not inconclusive, when no Intune traffic is seen")
	registerTrust(fs, &f.trust)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if f.expect == "" && f.baseline == "" {
		fmt.Fprintln(stderr, "intunecap check: nothing to check against (give --expect FILE, --baseline FILE or both)")
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "intunecap check: no capture file given (use - for standard input)")
		return 2
	}
	code, err := checkFiles(&f, fs.Args(), stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap check: %v\n", err)
	}
	return code
}

// parseFlags parses a command's flags; ok false means return code: 0 after -h, 2 after a usage error, which
// is printed on one line with a hint to the usage.
func parseFlags(fs *pflag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, pflag.ErrHelp):
		return 0, false
	}
	fmt.Fprintf(stderr, "intunecap %s: %v\nRun 'intunecap %s -h' for usage.\n", fs.Name(), err, fs.Name())
	return 2, false
}

// checkInputs is what a check is judged by, loaded and validated before any capture is read.
type checkInputs struct {
	exp     *regress.Expectations
	base    *regress.Baseline
	table   *rules.Table
	reports []reportOut
}

// checkFiles runs the check and returns the exit status with the error that explains a status 2.
func checkFiles(f *checkFlags, args []string, stdout, stderr io.Writer) (int, error) {
	in, err := loadCheckInputs(f)
	if err != nil {
		return 2, err
	}
	paths, err := expandInputs(args)
	if err != nil {
		return 2, err
	}
	for _, o := range in.reports {
		if err := refuseInputs("--report", o.path, append([]string{f.expect, f.baseline}, paths...)); err != nil {
			return 2, err
		}
	}
	var track []string
	if in.exp != nil {
		track = in.exp.TrackedNames()
	}
	verifier, err := loadVerifier(f.trust)
	if err != nil {
		return 2, err
	}
	html, htmlSinks, err := checkHTMLReports(in.reports, stdout)
	if err != nil {
		return 2, err
	}
	col, paths, sum, err := collect(paths, in.table, track, verifier, "intunecap check", stderr, htmlSinks...)
	if err := errors.Join(err, finishAll(html, err == nil)); err != nil {
		return 2, err
	}
	res := &regress.Result{Captures: paths, Rules: in.table.Sources, Expectations: f.expect, Baseline: f.baseline}
	if in.exp != nil {
		res.Cases = append(res.Cases, regress.Evaluate(in.exp, col)...)
	}
	if in.base != nil {
		now := regress.NewBaseline(col, in.table.Sources, paths)
		cases, changes := regress.Compare(in.base, now, col)
		res.Cases = append(res.Cases, cases...)
		res.Changes = changes
	}
	res.AddWarnings(col)
	res.Inconclusive = inconclusive(sum, f.allowEmpty)
	if err := regress.WriteText(stdout, res, f.quiet); err != nil {
		return 2, err
	}
	if err := writeReports(in.reports, res, stdout); err != nil {
		return 2, err
	}
	return map[string]int{regress.OutcomePass: 0, regress.OutcomeFail: 1, regress.OutcomeInconclusive: 3}[res.Outcome()], nil
}

// loadCheckInputs reads the expectations, the baseline and the rules, and checks they agree.
func loadCheckInputs(f *checkFlags) (*checkInputs, error) {
	in := &checkInputs{}
	var err error
	if in.reports, err = parseReports(f.reports); err != nil {
		return nil, err
	}
	if f.expect != "" {
		if in.exp, err = regress.Load(f.expect); err != nil {
			return nil, err
		}
	}
	if f.baseline != "" {
		if in.base, err = regress.ReadBaseline(f.baseline); err != nil {
			return nil, err
		}
	}
	if in.table, err = checkRules(f.rules, in.exp, in.base); err != nil {
		return nil, err
	}
	if in.exp != nil {
		if err := in.exp.Resolve(in.table); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// checkRules picks the requirement table: --rules, else the expectations file's, else the baseline's, else the
// default. Rule keys only mean something with the table they were written against, so a disagreement is an error.
func checkRules(flag []string, exp *regress.Expectations, base *regress.Baseline) (*rules.Table, error) {
	specs := flag
	if specs == nil && exp != nil {
		specs = exp.Rules
	}
	if specs == nil && base != nil {
		specs = base.Rules
	}
	table, err := rules.Load(specs)
	if err != nil {
		return nil, err
	}
	if exp != nil && exp.Rules != nil && !slices.Equal(exp.Rules, table.Sources) {
		return nil, fmt.Errorf("%s:%d: the expectations are written for rules %s, not %s", exp.File, exp.RulesAt.Line,
			strings.Join(exp.Rules, ", "), strings.Join(table.Sources, ", "))
	}
	if base != nil && !slices.Equal(base.Rules, table.Sources) {
		return nil, fmt.Errorf("the baseline was recorded with rules %s, not %s (record it again, or pass the same --rules)",
			strings.Join(base.Rules, ", "), strings.Join(table.Sources, ", "))
	}
	return table, nil
}

// collect reads the captures through the analysis pipeline into a collector (and any more sinks), and returns
// the summary with its outcome filled in (outcome.Sink), which the collector keeps too.
func collect(args []string, table *rules.Table, track []string, verifier *certchain.Verifier, prefix string,
	stderr io.Writer, also ...result.Sink) (*regress.Collector, []string, *result.Summary, error) {
	paths, err := expandInputs(args)
	if err != nil {
		return nil, nil, nil, err
	}
	reader, err := capture.Open(paths)
	if err != nil {
		return nil, nil, nil, err
	}
	defer reader.Close()
	col := regress.NewCollector(track)
	judge := newJudge(append(teeSink{col}, also...), table, outcome.Policy{})
	p := pipeline{Reader: reader, Paths: paths, Table: table, Sink: judge, Stderr: stderr, Prefix: prefix,
		Verifier: verifier}
	if _, err := p.run(); err != nil {
		return nil, nil, nil, err
	}
	return col, paths, judge.Final(), nil
}

// inconclusive says why the captures cannot show whether Intune traffic gets through, from the summary (nil
// when the analysis gave none).
func inconclusive(sum *result.Summary, allowEmpty bool) []string {
	if sum == nil {
		return []string{"the analysis ended before its summary"}
	}
	return outcome.Decide(sum, outcome.Policy{AllowEmpty: allowEmpty}).Reasons
}

// reportOut is one --report FORMAT=FILE.
type reportOut struct {
	format, path string
}

// parseReports validates --report values before any capture is read, so a typo fails in a second, not after a
// long analysis. "-" as FILE is standard output.
func parseReports(values []string) ([]reportOut, error) {
	var out []reportOut
	for _, v := range values {
		format, path, ok := strings.Cut(v, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--report %q: expected FORMAT=FILE, like junit=report.xml", v)
		}
		if !slices.Contains(checkReportFormats(), format) {
			return nil, fmt.Errorf("--report %q: unknown format %q (want %s)", v, format, strings.Join(checkReportFormats(), ", "))
		}
		if path != "-" {
			if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("--report %q: no directory %s to write into", v, filepath.Dir(path))
			}
		}
		out = append(out, reportOut{format: format, path: path})
	}
	return out, nil
}

// writeReports writes every --report; each file is written whole or not at all.
func writeReports(outs []reportOut, res *regress.Result, stdout io.Writer) error {
	for _, o := range outs {
		if o.format == "html" { // written from the records, by checkHTMLReports
			continue
		}
		var buf bytes.Buffer
		if err := regress.Write(o.format, &buf, res); err != nil {
			return err
		}
		if o.path == "-" {
			if _, err := stdout.Write(buf.Bytes()); err != nil {
				return fmt.Errorf("write %s report: %w", o.format, err)
			}
			continue
		}
		if err := writeFileAtomic(o.path, buf.Bytes()); err != nil {
			return fmt.Errorf("%s report: %w", o.format, err)
		}
	}
	return nil
}

const baselineUsage = `usage: intunecap baseline [--rules SPEC]... [-o BASELINE.json] CAPTURE...

Record what a known-good capture shows (each requirement's status, the blocked, reset
and unlisted names) for "intunecap check --baseline". The file is sorted JSON with no
time of the run in it: the same captures and rules always give the same bytes, so it
can be committed and diffed. Several files (or globs) are read as one capture.

Exit status: 0 written (with a warning on standard error when the capture cannot
tell: no Intune traffic, too much undecodable), 2 usage error, no packet could be
read, or -o names an input. The file is written whole or not at all.

Flags:
`

func runBaseline(args []string, stdout, stderr io.Writer) int {
	var specs []string
	var output, trust string
	fs := pflag.NewFlagSet("baseline", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringArrayVarP(&specs, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge (default intune-2015)")
	fs.StringVarP(&output, "output", "o", "", "write the baseline to `FILE` instead of standard output")
	registerTrust(fs, &trust)
	fs.Usage = func() { fmt.Fprint(stderr, baselineUsage); fs.PrintDefaults() }
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "intunecap baseline: no capture file given (use - for standard input)")
		return 2
	}
	if err := writeBaseline(specs, fs.Args(), output, trust, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "intunecap baseline: %v\n", err)
		return 2
	}
	return 0
}

// writeBaseline analyzes the captures and writes the baseline whole, or nothing.
func writeBaseline(specs, args []string, output, trust string, stdout, stderr io.Writer) error {
	table, err := rules.Load(specs)
	if err != nil {
		return err
	}
	verifier, err := loadVerifier(trust)
	if err != nil {
		return err
	}
	inputs, err := expandInputs(args)
	if err != nil {
		return err
	}
	if err := refuseInputs("-o", output, inputs); err != nil {
		return err
	}
	col, paths, sum, err := collect(inputs, table, nil, verifier, "intunecap baseline", stderr)
	if err != nil {
		return err
	}
	for _, why := range inconclusive(sum, false) {
		fmt.Fprintf(stderr, "intunecap baseline: warning: %s\n", why)
	}
	b := regress.NewBaseline(col, table.Sources, paths)
	if n := failingRequirements(b); n > 0 {
		fmt.Fprintf(stderr, "intunecap baseline: warning: %d requirements are failing in this capture; check compares against them as they are\n", n)
	}
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return err
	}
	if output == "" || output == "-" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = writeFileAtomic(output, buf.Bytes())
	}
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	return nil
}

func failingRequirements(b *regress.Baseline) int {
	n := 0
	for _, r := range b.Requirements {
		if r.Status == "failing" {
			n++
		}
	}
	return n
}
