package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/allowlist"
	"github.com/intunecap/intunecap/annotate"
	"github.com/intunecap/intunecap/regress"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// extraOutputs are the files analyze writes beside its main report: more report formats (--report) and
// allow-lists for the network team (--allowlist). They are validated before any capture is read.
type extraOutputs struct {
	reports    []string
	allowlists []string
	allowAll   bool
	pacProxy   string

	annotate string // --annotate: the capture written back with the verdicts as packet comments
	colors   string // --wireshark-colors: coloring rules for those comments

	reportOuts []reportOut
	allowOuts  []reportOut
	open       []*fileReport
	inputs     []string        // the capture files, for --annotate's second pass
	marks      *annotate.Marks // the comments --annotate writes, collected during the analysis
}

// register adds the flags to analyze's flag set.
func (e *extraOutputs) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&e.reports, "report", nil, "also write a report: `FORMAT=FILE` with FORMAT one of "+
		strings.Join(report.Formats(), ", ")+"; repeatable")
	fs.StringArrayVar(&e.allowlists, "allowlist", nil, "write the failing requirements for a firewall or proxy: `FORMAT=FILE` with FORMAT one of "+
		strings.Join(allowlist.Formats(), ", ")+"; repeatable")
	fs.BoolVar(&e.allowAll, "allowlist-all", false, "--allowlist: every requirement the capture saw, not only the failing ones")
	fs.StringVar(&e.pacProxy, "pac-proxy", "", "--allowlist pac: the proxy `HOST:PORT` for every other name")
	fs.StringVar(&e.annotate, "annotate", "", "also write the capture to `OUT.pcapng` with the verdicts as packet comments")
	fs.StringVar(&e.colors, "wireshark-colors", "", "write Wireshark coloring rules for --annotate's comments to `FILE`")
}

// validate parses the flag values, so a typo fails in a second rather than after a long analysis.
func (e *extraOutputs) validate() error {
	var err error
	if e.reportOuts, err = parseOutputs("--report", e.reports, report.Formats()); err != nil {
		return err
	}
	if e.allowOuts, err = parseOutputs("--allowlist", e.allowlists, allowlist.Formats()); err != nil {
		return err
	}
	if e.annotate == "-" {
		return errors.New("--annotate: the output is binary pcapng; name a file")
	}
	for _, o := range e.allowOuts {
		if o.format == "pac" {
			if err := allowlist.CheckProxy(e.pacProxy); err != nil {
				return fmt.Errorf("--allowlist pac: %w", err)
			}
		}
	}
	return nil
}

// refuseInputs fails when a --report, --allowlist, --annotate or --wireshark-colors file is one of the capture
// files (or the arguments that named them).
func (e *extraOutputs) refuseInputs(inputs []string) error {
	if err := refuseInputs("--annotate", e.annotate, inputs); err != nil {
		return err
	}
	if err := refuseInputs("--wireshark-colors", e.colors, inputs); err != nil {
		return err
	}
	for _, o := range e.reportOuts {
		if err := refuseInputs("--report", o.path, inputs); err != nil {
			return err
		}
	}
	for _, o := range e.allowOuts {
		if err := refuseInputs("--allowlist", o.path, inputs); err != nil {
			return err
		}
	}
	return nil
}

// parseOutputs reads FORMAT=FILE values; "-" as FILE is standard output.
func parseOutputs(flag string, values, formats []string) ([]reportOut, error) {
	var out []reportOut
	for _, v := range values {
		format, path, ok := strings.Cut(v, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("%s %q: expected FORMAT=FILE, like %s=out.%s", flag, v, formats[0], formats[0])
		}
		if !slices.Contains(formats, format) {
			return nil, fmt.Errorf("%s %q: unknown format %q (want %s)", flag, v, format, strings.Join(formats, ", "))
		}
		if path != "-" {
			if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("%s %q: no directory %s to write into", flag, v, filepath.Dir(path))
			}
		}
		out = append(out, reportOut{format: format, path: path})
	}
	return out, nil
}

// sink opens the --report writers and returns a sink that feeds main and each of them.
func (e *extraOutputs) sink(main result.Sink, failOn []rules.Verdict, stdout io.Writer) (result.Sink, error) {
	sinks := []result.Sink{main}
	if e.annotate != "" {
		e.marks = annotate.NewMarks(e.inputs, 0)
		sinks = append(sinks, e.marks)
	}
	for _, o := range e.reportOuts {
		fr, err := openFileReport(o, report.Options{FailOn: failOn}, stdout)
		if err != nil {
			finishAll(e.open, false)
			e.open = nil
			return nil, err
		}
		e.open = append(e.open, fr)
		sinks = append(sinks, fr.w)
	}
	return teeSink(sinks), nil
}

// finish closes the --report files (kept only when ok) and writes the allow-lists from the summary.
func (e *extraOutputs) finish(s *result.Summary, ok bool, stdout io.Writer) error {
	errs := []error{finishAll(e.open, ok)}
	e.open = nil
	if !ok || s == nil {
		return errors.Join(errs...)
	}
	for _, o := range e.allowOuts {
		errs = append(errs, writeWhole(o, stdout, func(w io.Writer) error {
			return allowlist.Write(o.format, w, s, allowlist.Options{All: e.allowAll, PACProxy: e.pacProxy})
		}))
	}
	if e.annotate != "" {
		_, err := writeAtomic(e.annotate, func(w io.Writer) (annotate.Stats, error) {
			return annotate.Write(w, e.inputs, e.marks)
		})
		errs = append(errs, err)
	}
	if e.colors != "" {
		errs = append(errs, writeFileAtomic(e.colors, colorFilters()))
	}
	return errors.Join(errs...)
}

// writeWhole writes one output through write: a file whole or not at all, or standard output for "-".
func writeWhole(o reportOut, stdout io.Writer, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if o.path == "-" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(o.path, buf.Bytes())
}

// teeSink passes every record and the summary to each sink in turn.
type teeSink []result.Sink

func (t teeSink) Record(r *result.Record) error {
	for _, s := range t {
		if err := s.Record(r); err != nil {
			return err
		}
	}
	return nil
}

func (t teeSink) Summary(sum *result.Summary) error {
	for _, s := range t {
		if err := s.Summary(sum); err != nil {
			return err
		}
	}
	return nil
}

// fileReport is a report writer whose file appears only once it is complete: it is written to a temporary
// file beside the target and renamed at the end, so a failed run leaves no half report and memory does not
// grow with the report. Standard output ("-") is buffered and written at the end, after the main report.
type fileReport struct {
	out  reportOut
	w    report.Writer
	tmp  *os.File
	bw   *bufio.Writer
	buf  *bytes.Buffer
	dest io.Writer
}

func openFileReport(o reportOut, opts report.Options, stdout io.Writer) (*fileReport, error) {
	fr := &fileReport{out: o}
	if o.path == "-" {
		fr.buf, fr.dest = &bytes.Buffer{}, stdout
		fr.bw = bufio.NewWriter(fr.buf)
	} else {
		tmp, err := os.CreateTemp(filepath.Dir(o.path), "."+filepath.Base(o.path)+".*.tmp")
		if err != nil {
			return nil, fmt.Errorf("open %s report: %w", o.format, err)
		}
		fr.tmp, fr.bw = tmp, bufio.NewWriterSize(tmp, 256<<10)
	}
	w, err := report.New(o.format, fr.bw, opts)
	if err != nil {
		fr.finish(false)
		return nil, err
	}
	fr.w = w
	return fr, nil
}

// finish closes the writer and moves the report into place, or removes it when !ok.
func (fr *fileReport) finish(ok bool) error {
	var err error
	if fr.w != nil {
		err = errors.Join(fr.w.Close(), fr.bw.Flush())
	}
	if fr.tmp == nil {
		if ok && err == nil {
			_, err = fr.dest.Write(fr.buf.Bytes())
		}
		return wrapReportErr(fr.out, err)
	}
	err = errors.Join(err, fr.tmp.Close())
	if !ok || err != nil {
		os.Remove(fr.tmp.Name())
		return wrapReportErr(fr.out, err)
	}
	if err := os.Chmod(fr.tmp.Name(), 0o644); err != nil {
		os.Remove(fr.tmp.Name())
		return wrapReportErr(fr.out, err)
	}
	return wrapReportErr(fr.out, os.Rename(fr.tmp.Name(), fr.out.path))
}

func wrapReportErr(o reportOut, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("write %s report %s: %w", o.format, o.path, err)
}

// checkReportFormats are the formats check's --report accepts: regress's, and the html report of the
// analysis behind the check.
func checkReportFormats() []string { return append(regress.Formats(), "html") }

// checkHTMLReports opens check's --report html=FILE writers; the others are regress's, written after.
func checkHTMLReports(outs []reportOut, stdout io.Writer) ([]*fileReport, []result.Sink, error) {
	var open []*fileReport
	var sinks []result.Sink
	for _, o := range outs {
		if o.format != "html" {
			continue
		}
		fr, err := openFileReport(o, report.Options{}, stdout)
		if err != nil {
			finishAll(open, false)
			return nil, nil, err
		}
		open, sinks = append(open, fr), append(sinks, fr.w)
	}
	return open, sinks, nil
}

// finishAll finishes every report.
func finishAll(open []*fileReport, ok bool) error {
	var errs []error
	for _, fr := range open {
		errs = append(errs, fr.finish(ok))
	}
	return errors.Join(errs...)
}
