package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/intunecap/intunecap/result"
)

// jsonWriter streams one document, {"records": [...], "summary": {...}}, indented two spaces. Records are written
// as they arrive rather than kept, so memory does not grow with the capture; the bytes are the same as
// json.MarshalIndent of the whole document would give.
type jsonWriter struct {
	out     *bufio.Writer
	scratch bytes.Buffer
	line    []byte
	enc     *json.Encoder
	lc      lifecycle
	records int
}

func newJSONWriter(w io.Writer) *jsonWriter {
	j := &jsonWriter{out: bufio.NewWriter(w)}
	j.enc = json.NewEncoder(&j.scratch)
	j.enc.SetEscapeHTML(false)
	return j
}

// Record appends r to the records array.
func (j *jsonWriter) Record(r *result.Record) error {
	if err := j.lc.record(); err != nil {
		return err
	}
	sep := ",\n    "
	if j.records == 0 {
		sep = "{\n  \"records\": [\n    "
	}
	j.records++
	return j.lc.fail("record", j.write(sep, r, "    "))
}

// Summary closes the records array and writes the summary.
func (j *jsonWriter) Summary(s *result.Summary) error {
	if err := j.lc.summary(); err != nil {
		return err
	}
	c := normalizeSummary(s)
	return j.lc.fail("summary", j.finish(&c))
}

// Close ends the document (with "summary": null if none came) and flushes it.
func (j *jsonWriter) Close() error {
	if j.lc.closed {
		return nil
	}
	if !j.lc.summarized && j.lc.err == nil {
		j.lc.fail("summary", j.finish(nil))
	}
	j.lc.closed = true
	if j.lc.err == nil {
		j.lc.fail("report", j.out.Flush())
	}
	return j.lc.err
}

// finish writes everything after the last record.
func (j *jsonWriter) finish(s *result.Summary) error {
	head := "\n  ],\n  \"summary\": "
	if j.records == 0 {
		head = "{\n  \"records\": [],\n  \"summary\": "
	}
	if err := j.write(head, s, "  "); err != nil {
		return err
	}
	if _, err := j.out.WriteString("\n}\n"); err != nil {
		return err
	}
	return j.out.Flush()
}

// write writes sep and then v indented at the given depth, terminal-safe, without the encoder's trailing newline.
func (j *jsonWriter) write(sep string, v any, prefix string) error {
	j.scratch.Reset()
	j.enc.SetIndent(prefix, "  ")
	if err := j.enc.Encode(v); err != nil {
		return err
	}
	if _, err := j.out.WriteString(sep); err != nil {
		return err
	}
	j.line = appendSafeJSON(j.line[:0], bytes.TrimSuffix(j.scratch.Bytes(), []byte("\n")))
	_, err := j.out.Write(j.line)
	return err
}
