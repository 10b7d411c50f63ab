package rules

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/intunecap/intunecap/internal/hostile"
)

// allocated returns the bytes fn allocates in all (an upper bound of what it holds at its peak).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hostileFile writes a case of internal/hostile into a temporary folder.
func hostileFile(t testing.TB, name string, write func(w *bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostileRuleFiles loads the hostile rule files and checks the answer and the memory they take. The
// one-line JSON file of 4 MB loads (it took a minute and a half when every row counted its line and column
// from the start: BenchmarkLoadOneLineJSON measures it); the alias fan-out is refused before it is walked.
func TestHostileRuleFiles(t *testing.T) {
	oneLine := hostileFile(t, "one-line.json", func(w *bytes.Buffer) error { return hostile.RulesOneLineJSON(w, 4_000_000) })
	fanout := hostileFile(t, "fanout.yaml", func(w *bytes.Buffer) error { return hostile.RulesAliasFanout(w, 7, 10) })
	var tb *Table
	var err error
	used := allocated(func() { tb, err = LoadFile(oneLine) })
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tb.Rules); n < 80_000 || tb.Rules[n-1].Pattern != fmt.Sprintf("h%d.example.com", n-1) {
		t.Errorf("%d rows, last %q", n, tb.Rules[n-1].Pattern)
	}
	if used > 256<<20 {
		t.Errorf("loading 4 MB of JSON allocated %d MiB", used>>20)
	}
	used = allocated(func() { _, err = LoadFile(fanout) })
	if want := fanout + ": yaml document stands for more than 1000000 nodes once its aliases are expanded"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if used > 16<<20 {
		t.Errorf("refusing the alias fan-out allocated %d MiB", used>>20)
	}
}

// TestRuleFileCaps checks each cap on a rule file and the refusal of what is not a regular file.
func TestRuleFileCaps(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, append([]byte("rules: []\n"), bytes.Repeat([]byte("#"), maxFileSize)...), 0o600); err != nil {
		t.Fatal(err)
	}
	var rows strings.Builder
	rows.WriteString(`{"rules":[`)
	for i := range maxRows + 1 {
		if i > 0 {
			rows.WriteByte(',')
		}
		rows.WriteString(`{"pattern":"a.b","ports":"1"}`)
	}
	rows.WriteString("]}")
	many := filepath.Join(dir, "many.json")
	if err := os.WriteFile(many, []byte(rows.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"/dev/zero", "/dev/zero: not a regular file (a device)"},
		{fifo, fifo + ": not a regular file (a FIFO)"},
		{dir, dir + ": not a regular file (a directory)"},
		{big, fmt.Sprintf("%s: %d bytes, over the 4194304-byte cap on a rule file", big, maxFileSize+10)},
		{many, many + ": more than 100000 rows"},
	}
	for _, tt := range tests {
		_, err := LoadFile(tt.path)
		if err == nil || err.Error() != tt.want {
			t.Errorf("LoadFile(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
	if _, err := ParseTable("big", make([]byte, maxFileSize+1)); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("ParseTable of %d bytes: %v", maxFileSize+1, err)
	}
}

// TestAliasesWithinBudget checks that aliases that expand to a table within the caps still load.
func TestAliasesWithinBudget(t *testing.T) {
	yamlText := "rules:\n  - &r {purpose: p, patterns: &p [a.example, b.example], ports: \"443\"}\n" +
		strings.Repeat("  - *r\n", 200) + "  - {patterns: *p, ports: \"80\"}\n"
	tb, err := ParseTable("ok", []byte(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rules) != 201*2+2 {
		t.Errorf("%d rows", len(tb.Rules))
	}
}

// TestLineIndexAgreesWithOffsetPos checks the incremental positions against counting from the start.
func TestLineIndexAgreesWithOffsetPos(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := []byte(strings.Repeat("ab\ncdé\n\nxyz ü", 50))
	l := newLineIndex(data)
	for range 500 {
		off := int64(rng.IntN(len(data) + 3))
		if rng.IntN(4) > 0 { // mostly forwards, as rows are read
			off = min(l.off+int64(rng.IntN(5)), int64(len(data)))
		}
		if got, want := l.pos(off), offsetPos(data, off); got != want {
			t.Fatalf("pos(%d) = %+v, want %+v", off, got, want)
		}
	}
}

// BenchmarkLoadOneLineJSON loads a JSON rule table of 4 MB on one line.
func BenchmarkLoadOneLineJSON(b *testing.B) {
	var buf bytes.Buffer
	if err := hostile.RulesOneLineJSON(&buf, 4_000_000); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ParseTable("bench", buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
