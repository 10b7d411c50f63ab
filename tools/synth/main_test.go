package main

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"20MB", 20_000_000, false},
		{"1GB", 1_000_000_000, false},
		{"1GiB", 1 << 30, false},
		{"100MiB", 100 << 20, false},
		{"1.5GB", 0, true},
		{"2gib", 2 << 30, false},
		{"512KiB", 512 << 10, false},
		{"12345", 12345, false},
		{"0", 0, true},
		{"-1MB", 0, true},
		{"big", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
