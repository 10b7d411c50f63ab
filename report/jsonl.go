package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/intunecap/intunecap/result"
)

// jsonlWriter writes one JSON object per line, each in a single Write as it arrives, so live mode can be piped
// into jq and a pipeline sees a connection as soon as its verdict is final.
type jsonlWriter struct {
	out     io.Writer
	scratch bytes.Buffer
	rec     []byte // a record's JSON before escaping, reused
	line    []byte
	enc     *json.Encoder
	lc      lifecycle
}

func newJSONLWriter(w io.Writer) *jsonlWriter {
	j := &jsonlWriter{out: w}
	j.enc = json.NewEncoder(&j.scratch)
	j.enc.SetEscapeHTML(false)
	return j
}

// Record writes r as one line.
func (j *jsonlWriter) Record(r *result.Record) error {
	if err := j.lc.record(); err != nil {
		return err
	}
	return j.lc.fail("record", j.writeRecord(r))
}

// writeRecord is write for a record, encoded without reflection when it can be.
func (j *jsonlWriter) writeRecord(r *result.Record) error {
	var ok bool
	if j.rec, ok = appendRecordJSON(j.rec[:0], r); !ok {
		return j.write(r)
	}
	j.line = append(appendSafeJSON(j.line[:0], j.rec), '\n')
	_, err := j.out.Write(j.line)
	return err
}

// Summary writes the summary as the last line.
func (j *jsonlWriter) Summary(s *result.Summary) error {
	if err := j.lc.summary(); err != nil {
		return err
	}
	c := normalizeSummary(s)
	return j.lc.fail("summary", j.write(&c))
}

// Close has nothing to flush: every line was written whole.
func (j *jsonlWriter) Close() error {
	if j.lc.closed {
		return nil
	}
	j.lc.closed = true
	return j.lc.err
}

// write encodes v, makes it terminal-safe and writes the line at once.
func (j *jsonlWriter) write(v any) error {
	j.scratch.Reset()
	if err := j.enc.Encode(v); err != nil {
		return err
	}
	j.line = appendSafeJSON(j.line[:0], j.scratch.Bytes())
	_, err := j.out.Write(j.line)
	return err
}
