package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// atomicFile is an output file written under a temporary name in the same directory and renamed over the real
// one only when everything was written: a failed run (a full disk, an unreadable capture, an interrupt) leaves
// the previous file as it was, never a truncated one.
type atomicFile struct {
	*os.File
	path string
	done bool
}

// createAtomic starts writing path.
func createAtomic(path string) (*atomicFile, error) {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("open output %s: not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("open output: %w", err)
	}
	return &atomicFile{File: f, path: path}, nil
}

// commit closes the temporary file and renames it to the real name.
func (a *atomicFile) commit() error {
	a.done = true
	if err := a.File.Close(); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	if err := os.Rename(a.File.Name(), a.path); err != nil {
		os.Remove(a.File.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	return nil
}

// abort removes the temporary file; the real one is untouched. It does nothing after commit.
func (a *atomicFile) abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	os.Remove(a.File.Name())
}

// writeFileAtomic writes data to path whole, or leaves path as it was.
func writeFileAtomic(path string, data []byte) error {
	f, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.commit()
}

// output is where a report goes: standard output, a device or pipe named with -o, or an atomic file.
type output struct {
	w      io.Writer
	file   *atomicFile // nil unless a regular file is written
	device *os.File    // a device or named pipe (/dev/stdout, a FIFO), written in place
}

// openOutput opens -o FILE, or returns stdout ("" or "-"). Only the path the user named is ever replaced.
func openOutput(path string, stdout io.Writer) (*output, error) {
	if path == "" || path == "-" {
		return &output{w: stdout}, nil
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		d, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open output: %w", err)
		}
		return &output{w: d, device: d}, nil
	}
	f, err := createAtomic(path)
	if err != nil {
		return nil, err
	}
	return &output{w: f, file: f}, nil
}

// finish commits the file when ok, and discards it otherwise.
func (o *output) finish(ok bool) error {
	if o.device != nil {
		err := o.device.Close()
		o.device = nil
		if err != nil && ok {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	if o.file == nil {
		return nil
	}
	if !ok {
		o.file.abort()
		return nil
	}
	return o.file.commit()
}
