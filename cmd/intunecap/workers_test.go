package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/internal/pcaptest"
)

// TestWorkersFlagGivesTheSameOutput runs analyze over every bundled capture and every shared public capture
// with --workers 1, the default (one worker per core) and 3, in jsonl and text: the output and the exit status
// must be the same bytes whatever the number of workers.
func TestWorkersFlagGivesTheSameOutput(t *testing.T) {
	t.Run("bundled", func(t *testing.T) {
		for _, file := range recordedCaptures(t) {
			t.Run(filepath.Base(file), func(t *testing.T) { sameForAnyWorkers(t, file) })
		}
	})
	t.Run("shared", func(t *testing.T) {
		for _, file := range pcaptest.Captures(t, pcaptest.SharedDir(t)) {
			t.Run(filepath.Base(file), func(t *testing.T) { sameForAnyWorkers(t, file) })
		}
	})
}

func sameForAnyWorkers(t *testing.T, file string) {
	t.Helper()
	for _, format := range []string{"jsonl", "text"} {
		args := []string{"analyze", "--format", format, "--color", "never", file}
		want, wantCode := runCaptured(t, append([]string{"--workers", "1"}, args...))
		for _, workers := range [][]string{nil, {"--workers", "3"}} {
			got, code := runCaptured(t, append(workers, args...))
			if code != wantCode || !bytes.Equal(got, want) {
				t.Errorf("%s with %v: exit %d, --workers 1 exit %d; output:\n%s", format, workers, code, wantCode,
					lineDiff(string(want), string(got)))
			}
		}
	}
}

// runCaptured runs the command line (flags first, moved after the subcommand) and returns stdout and the exit
// status.
func runCaptured(t *testing.T, args []string) ([]byte, int) {
	t.Helper()
	i := 0
	for args[i] != "analyze" {
		i++
	}
	line := append([]string{"analyze"}, args[:i]...)
	line = append(line, args[i+1:]...)
	var out, errOut bytes.Buffer
	code := run(line, nil, &out, &errOut)
	if code == 2 {
		t.Fatalf("%v: exit 2: %s", line, errOut.String())
	}
	return out.Bytes(), code
}
