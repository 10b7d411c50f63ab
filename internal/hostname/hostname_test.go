package hostname

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"enrollment.manage.microsoft.com", true},
		{"_dmarc.example.com", true},
		{"xn--mnchen-3ya.example", true},
		{"münchen.example", false},
		{"", false},
		{"a..b", false},
		{".a", false},
		{"a.", false},
		{"line1\nFAIL: injected.manage.microsoft.com", false},
		{strings.Repeat("a", 63) + ".b", true},
		{strings.Repeat("a", 64) + ".b", false},
		{strings.Repeat("a.", 126) + "a", true},
		{strings.Repeat("a.", 127) + "a", false},
	}
	for _, tc := range tests {
		if got := Valid(tc.in); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if got := Valid([]byte(tc.in)); got != tc.want {
			t.Errorf("Valid([]byte(%q)) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
