package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/intunecap/intunecap/tools/synth/gen"
)

func TestCountMatchesWrittenPackets(t *testing.T) {
	for _, format := range []string{"pcap", "pcapng"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c."+format)
			exp, err := gen.WriteFile(path, gen.Config{Size: 1_000_000, Seed: 1, Format: format, VLAN: true})
			if err != nil {
				t.Fatal(err)
			}
			n, err := count(path)
			if err != nil || n != exp.Packets {
				t.Fatalf("count = %d, %v; want %d", n, err, exp.Packets)
			}
		})
	}
}

func TestCountErrors(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "x.txt")
	if err := os.WriteFile(notCapture, []byte("hello, not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.pcap"), notCapture} {
		if _, err := count(path); err == nil {
			t.Errorf("count(%s): no error", path)
		}
	}
}
