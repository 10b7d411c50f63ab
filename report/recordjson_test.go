package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// randomRecord fills every exported field of a Record through reflection, so a field added to Record and not
// to appendRecordJSON makes TestRecordJSONMatchesEncodingJSON fail.
func randomRecord(rng *rand.Rand) result.Record {
	strs := []string{"", "a", "login.microsoftonline.com", "with \"quotes\" and \\", "tab\there", "nl\n", "<&>",
		"\x1b[31m", "caf\u00e9", "\u2028\u2029", "bad\xff", "\x00", "\u202e", "\U0001f600"}
	var r result.Record
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() || rng.IntN(4) == 0 {
			continue // unexported, or left zero
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(strs[rng.IntN(len(strs))])
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(rng.Int64N(1<<40) - 1<<20)
		case reflect.Uint16:
			f.SetUint(uint64(rng.IntN(1 << 16)))
		case reflect.Uint64:
			f.SetUint(rng.Uint64())
		case reflect.Float64:
			floats := []float64{0, 1, 0.006629, 1e-7, 123456.789, 1e21, 5e-324, -2.5, math.MaxFloat64, rng.Float64() * 100}
			f.SetFloat(floats[rng.IntN(len(floats))])
		case reflect.Slice:
			n := rng.IntN(4)
			s := reflect.MakeSlice(f.Type(), n, n)
			for j := 0; j < n; j++ {
				if s.Index(j).Kind() == reflect.String {
					s.Index(j).SetString(strs[rng.IntN(len(strs))])
				} else {
					s.Index(j).SetInt(int64(rng.IntN(4096)))
				}
			}
			f.Set(s)
		case reflect.Pointer:
			switch f.Interface().(type) {
			case *result.ICMPError:
				m := &result.ICMPError{Type: rng.IntN(256), Code: rng.IntN(256), From: strs[rng.IntN(len(strs))]}
				f.Set(reflect.ValueOf(m))
			case *result.SOCKS:
				s := &result.SOCKS{Version: strs[rng.IntN(len(strs))], Command: strs[rng.IntN(len(strs))],
					Auth: strs[rng.IntN(len(strs))]}
				if rng.IntN(2) == 0 {
					code := rng.IntN(256)
					s.Reply = &code
				}
				f.Set(reflect.ValueOf(s))
			default:
				panic("randomRecord: pointer field " + v.Type().Field(i).Name + " of a type it does not fill")
			}
		default:
			panic("randomRecord: field " + v.Type().Field(i).Name + " of a kind it does not fill")
		}
	}
	r.Verdict = rules.Verdict(strs[rng.IntN(len(strs))])
	return r
}

func TestRecordJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 20000; i++ {
		r := randomRecord(rng)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		got, ok := appendRecordJSON(nil, &r)
		// The one intended difference: bytes that are not UTF-8 are escaped reversibly, not made U+FFFD.
		wantBytes := bytes.ReplaceAll(want.Bytes(), []byte(`bad\ufffd`), []byte(`bad\\xff`))
		if !ok || !bytes.Equal(append(got, '\n'), wantBytes) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, wantBytes)
		}
	}
	if _, ok := appendRecordJSON(nil, &result.Record{Duration: math.NaN()}); ok {
		t.Error("a NaN duration was encoded")
	}
}

func TestJSONStringEscapesInvalidUTF8(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ok", `"ok"`},
		{"a\\b", `"a\\b"`}, // valid: as encoding/json writes it
		{"bad\xff", `"bad\\xff"`},
		{"x\\y\xc3", `"x\\\\y\\xc3"`}, // invalid: the backslash doubled too, so \xNN reads back unambiguously
		{"caf\u00e9\xfe", `"café\\xfe"`},
	} {
		if got := string(appendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("%q: got %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestPlainJSONAgainstLoop holds plainJSON's eight-bytes-at-a-time test to the byte loop it replaces: every
// byte value at every position of strings up to 24 bytes long, then random strings.
func TestPlainJSONAgainstLoop(t *testing.T) {
	plainLoop := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	check := func(s string) {
		t.Helper()
		if got, want := plainJSON(s), plainLoop(s); got != want {
			t.Fatalf("plainJSON(%q) = %v, the loop says %v", s, got, want)
		}
	}
	for n := 0; n <= 24; n++ {
		base := []byte(strings.Repeat("a~ Z", 6)[:n])
		check(string(base))
		for i := range base {
			for c := 0; c < 256; c++ {
				b := bytes.Clone(base)
				b[i] = byte(c)
				check(string(b))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0x60)) // mostly printable ASCII
			if rng.IntN(30) == 0 {
				b[i] = byte(rng.IntN(256))
			}
		}
		check(string(b))
	}
}
