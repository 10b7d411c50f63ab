package rules

import (
	"slices"
	"testing"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in, out, err string
	}{
		{"80,443", "80,443", ""},
		{"80, 443", "80,443", ""},
		{" 443 ", "443", ""},
		{"tcp/80,443 udp/123", "tcp/80,443 udp/123", ""},
		{"udp/123", "udp/123", ""},
		{"UDP/3478-3481", "udp/3478-3481", ""},
		{"1024-65535", "1024-65535", ""},
		{"1-1", "1", ""},
		{"udp/53 tcp/53", "udp/53 tcp/53", ""},
		{"", "", `empty port list (expected ports such as "80,443" or "udp/123")`},
		{",", "", `empty port list (expected ports such as "80,443" or "udp/123")`},
		{"0", "", `bad port "0" (expected a number from 1 to 65535)`},
		{"65536", "", `bad port "65536" (expected a number from 1 to 65535)`},
		{"99999999999", "", `bad port "99999999999" (expected a number from 1 to 65535)`},
		{"-5", "", `missing port number (expected a number from 1 to 65535)`},
		{"5-", "", `missing port number (expected a number from 1 to 65535)`},
		{"9-3", "", `bad port range "9-3": 9 is above 3`},
		{"+80", "", `bad port "+80" (expected a number from 1 to 65535)`},
		{"http", "", `bad port "http" (expected a number from 1 to 65535)`},
		{"icmp/1", "", `unknown transport "icmp" (expected tcp or udp)`},
		{"tcp/", "", `missing port number (expected a number from 1 to 65535)`},
	}
	for _, tt := range tests {
		ports, err := ParsePorts(tt.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.err || FormatPorts(ports) != tt.out {
			t.Errorf("ParsePorts(%q) = %q, %q; want %q, %q", tt.in, FormatPorts(ports), got, tt.out, tt.err)
		}
	}
}

func TestAllows(t *testing.T) {
	r := &Rule{Ports: []PortRange{{TCP, 80, 80}, {TCP, 1000, 2000}, {UDP, 123, 123}}}
	tests := []struct {
		proto Proto
		port  uint16
		want  bool
	}{
		{TCP, 80, true}, {TCP, 81, false}, {TCP, 1000, true}, {TCP, 2000, true}, {TCP, 2001, false},
		{UDP, 123, true}, {TCP, 123, false}, {UDP, 80, false}, {0, 80, false},
	}
	for _, tt := range tests {
		if got := r.Allows(tt.proto, tt.port); got != tt.want {
			t.Errorf("Allows(%v, %d) = %v", tt.proto, tt.port, got)
		}
	}
}

func TestProtoAndKey(t *testing.T) {
	if TCP.String() != "tcp" || UDP.String() != "udp" || Proto(9).String() != "proto(9)" {
		t.Error("Proto.String")
	}
	r := &Rule{Table: "intune-2015", Row: 1, Pattern: "*.manage.microsoft.com"}
	if r.Key() != "intune-2015:1" || r.Target() != "*.manage.microsoft.com" || r.IsNote() {
		t.Errorf("Key %q Target %q", r.Key(), r.Target())
	}
	if (&Rule{}).Target() != "" || !(&Rule{}).IsNote() {
		t.Error("a note row has a target")
	}
}

func TestParseVerdicts(t *testing.T) {
	tests := []struct {
		in   string
		want []Verdict
		err  string
	}{
		{"blocked,reset", []Verdict{Blocked, Reset}, ""},
		{" Blocked , port-not-allowed,blocked ", []Verdict{Blocked, PortNotAllowed}, ""},
		{"allowed,unlisted,other", []Verdict{Allowed, Unlisted, Other}, ""},
		{"blocked,reset,intercepted", DefaultFailOn(), ""},
		{"blocked,dropped", nil, `unknown verdict "dropped" (expected one of allowed, blocked, reset, intercepted, port-not-allowed, unlisted, other)`},
		{"", nil, `empty verdict list (expected one or more of allowed, blocked, reset, intercepted, port-not-allowed, unlisted, other)`},
	}
	for _, tt := range tests {
		got, err := ParseVerdicts(tt.in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if !slices.Equal(got, tt.want) || msg != tt.err {
			t.Errorf("ParseVerdicts(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.err)
		}
	}
}

// TestVerdictFailure checks which verdicts say the network stopped or answered in the server's place.
func TestVerdictFailure(t *testing.T) {
	for _, v := range Verdicts() {
		want := v == Blocked || v == Reset || v == Intercepted
		if v.Failure() != want {
			t.Errorf("%s.Failure() = %v, want %v", v, v.Failure(), want)
		}
		if slices.Contains(DefaultFailOn(), v) != want {
			t.Errorf("DefaultFailOn() and Failure disagree on %s", v)
		}
	}
}

func TestToASCII(t *testing.T) {
	tests := []struct{ in, out, err string }{
		{"bücher.example", "xn--bcher-kva.example", ""},
		{"München.Example.", "xn--mnchen-3ya.example", ""},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah", ""},
		{"例え。テスト", "xn--r8jz45g.xn--zckzah", ""},
		{"Manage.Microsoft.COM", "manage.microsoft.com", ""},
		{"ü", "xn--tda", ""},
		{"ñandú.example", "xn--and-6ma2c.example", ""},
		{"bahnhof-süd", "xn--bahnhof-sd-ieb", ""},
		{"straße.de", "xn--strae-oqa.de", ""},               // non-transitional: ß is kept, not "ss"
		{"e\u0301cole.example", "xn--cole-9oa.example", ""}, // NFC: e + combining acute is é
		{"ＢÜCHER.example", "xn--bcher-kva.example", ""},     // width and case mapping
		{"ü.com\u3002", "xn--tda.com", ""},                  // ideographic full stop, then one trailing dot
		{"a_b.ü", "a_b.xn--tda", ""},                        // '_' of service names is kept
		{"-files.ü", "-files.xn--tda", ""},                  // hyphens are not checked ("*-files.x")
		{"a.*.bücher.example", "a.*.xn--bcher-kva.example", ""},
		{"XN--BCHER-KVA.Example.", "xn--bcher-kva.example", ""}, // ASCII: lower-cased only
		{"xn--zz.ü", "", `not a valid international name: idna: invalid label "zz"`},
		{"\u200dü.example", "", `not a valid international name: idna: invalid label "\u200dü"`},
		{"\xff", "", "name is not valid UTF-8"},
		{"\xff.ü", "", "name is not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := ToASCII(tt.in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if got != tt.out || msg != tt.err {
			t.Errorf("ToASCII(%q) = %q, %q; want %q, %q", tt.in, got, msg, tt.out, tt.err)
		}
	}
}

func TestFileErrorFormat(t *testing.T) {
	tests := []struct {
		e    FileError
		want string
	}{
		{FileError{Path: "a.yaml", Line: 3, Col: 7, Msg: "m"}, "a.yaml:3:7: m"},
		{FileError{Path: "a.yaml", Line: 3, Msg: "m"}, "a.yaml:3: m"},
		{FileError{Path: "a.yaml", Msg: "m"}, "a.yaml: m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
	if p := offsetPos([]byte("ab\ncdé\nx"), 7); p != (pos{2, 4}) {
		t.Errorf("offsetPos = %v", p)
	}
}
