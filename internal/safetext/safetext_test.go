package safetext

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Strings a crafted packet could carry: escape sequences, a bell, invalid UTF-8, a right-to-left override.
const (
	hostileSNI  = "evil\x1b[31m.manage.microsoft.com\a"
	hostileName = "\xff\xfeadmin\u202egpj.exe.microsoft.com"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"enterpriseregistration.windows.net", "enterpriseregistration.windows.net"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"with space", "with space"},
		{"münchen.example", "münchen.example"},
		{"evil\x1b[31m.example", `evil\x1b[31m.example`},
		{"bell\a tab\t nl\n cr\r nul\x00", `bell\x07 tab\x09 nl\x0a cr\x0d nul\x00`},
		{"del\x7f", `del\x7f`},
		{`back\slash`, `back\\slash`},
		{"bad\xff\xfe", `bad\xff\xfe`},
		{"cut\xe2\x80", `cut\xe2\x80`},
		{"rtl\u202egpj.exe", `rtl\u202egpj.exe`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"nbsp\u00a0x", `nbsp\u00a0x`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"replacement\ufffd", "replacement\ufffd"},
		{"emoji😀", "emoji😀"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "login.microsoftonline.com", hostileSNI, hostileName, "\x1b]0;title\a",
		`a\b`, "\u202e\u200b\u00a0", "\xc0\x80", "\xed\xa0\x80", "\U0010ffff", "\"quoted\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("Text(%q) = %q holds control byte %#x", s, out, c)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if !strconv.IsPrint(r) {
				t.Fatalf("Text(%q) = %q holds non-printable %U", s, out, r)
			}
		}
		back, err := strconv.Unquote(`"` + strings.ReplaceAll(out, `"`, `\"`) + `"`)
		if err != nil || back != s {
			t.Fatalf("Text(%q) = %q does not unquote back (%q, %v)", s, out, back, err)
		}
		if isPlain(s) && out != s {
			t.Fatalf("plain %q changed to %q", s, out)
		}
	})
}

func BenchmarkText(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"plain", "fef.msua06.manage.microsoft.com"},
		{"hostile", hostileSNI},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Text(bc.in)
			}
		})
	}
}
