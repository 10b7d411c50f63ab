package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestTuneGC: without GOGC and GOMEMLIMIT, collection is off under a limit of firstCollection until the first
// cycle, after which GOGC is defaultGCPercent and the soft limit defaultMemoryLimit; GOMEMLIMIT's value is the
// limit after the first cycle; with GOGC set, only the limit is set.
func TestTuneGC(t *testing.T) {
	for _, v := range []string{"GOGC", "GOMEMLIMIT"} {
		if os.Getenv(v) != "" {
			t.Fatalf("%s is set in the test's environment: unset it to run this test", v)
		}
	}
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

	tests := []struct {
		name                string
		env                 map[string]string
		before, beforeLimit int64 // GC percent and limit right after tuneGC
		after, afterLimit   int64 // after the first collection
	}{
		{"defaults", nil, -1, firstCollection, defaultGCPercent, defaultMemoryLimit},
		{"GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "1GiB"}, -1, firstCollection, defaultGCPercent, 1 << 30},
		{"small GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "32MiB"}, -1, 32 << 20, defaultGCPercent, 32 << 20},
		{"GOGC", map[string]string{"GOGC": "150"}, 150, defaultMemoryLimit, 150, defaultMemoryLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			debug.SetGCPercent(150) // what the runtime would have read from GOGC=150
			if lim, ok := tt.env["GOMEMLIMIT"]; ok {
				debug.SetMemoryLimit(map[string]int64{"1GiB": 1 << 30, "32MiB": 32 << 20}[lim])
			}
			tuneGC()
			if p, l := gcSettings(); p != tt.before || l != tt.beforeLimit {
				t.Fatalf("after tuneGC: GC percent %d, limit %d; want %d, %d", p, l, tt.before, tt.beforeLimit)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				runtime.GC()
				p, l := gcSettings()
				if p == tt.after && l == tt.afterLimit {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("after collections: GC percent %d, limit %d; want %d, %d", p, l, tt.after, tt.afterLimit)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// gcSettings reads the GC percent and memory limit without changing them.
func gcSettings() (percent, limit int64) {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return int64(p), debug.SetMemoryLimit(-1)
}
