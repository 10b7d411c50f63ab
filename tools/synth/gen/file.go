package gen

import (
	"fmt"
	"os"
)

// WriteFile writes the capture cfg describes to the file at path, created or truncated, and returns what it
// holds. A failure leaves whatever part of the file was written.
func WriteFile(path string, cfg Config) (*Expected, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	exp, err := Generate(f, cfg)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", path, cerr)
	}
	if err != nil {
		return nil, err
	}
	return exp, nil
}
