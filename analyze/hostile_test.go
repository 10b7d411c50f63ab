package analyze_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/internal/hostile"
	"github.com/intunecap/intunecap/result"
	"github.com/intunecap/intunecap/rules"
)

// The engine's hostile captures (internal/hostile.EngineCases), made at run time: each is analyzed with 1, 2
// and 3 workers, which must agree, and checked for the answer it was built to falsify.

// hostileCase writes the named engine case into a temporary folder and returns its path.
func hostileCase(t *testing.T, name string) string {
	t.Helper()
	for _, c := range hostile.EngineCases() {
		if c.Name != name {
			continue
		}
		var b bytes.Buffer
		if err := c.Write(&b); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d KiB", name, b.Len()>>10)
		return path
	}
	t.Fatalf("no engine case %q", name)
	return ""
}

// analyzeAllWorkers analyzes path with 1, 2 and 3 workers, fails unless they give the same bytes, and returns
// the one-worker result.
func analyzeAllWorkers(t *testing.T, path string) *collector {
	t.Helper()
	one := analyzeSource(t, 1, true, path)
	want := encode(t, one)
	for _, n := range []int{1, 2, 3} {
		if got := encode(t, analyzeWith(t, n, path)); got != want {
			t.Errorf("%d workers differ from one engine:\n%s", n, firstDiff(want, got))
		}
	}
	return one
}

func flowTo(c *collector, server string) *result.Record {
	for i := range c.records {
		if c.records[i].Type == "flow" && c.records[i].Server == server {
			return &c.records[i]
		}
	}
	return nil
}

func addr(a [4]byte) string { return netip.AddrFrom4(a).String() }

func TestHostileFarFutureFrame(t *testing.T) {
	c := analyzeAllWorkers(t, hostileCase(t, "far-future-frame.pcap.gz"))
	r := flowTo(c, addr(hostile.Server(1)))
	if r == nil || r.Verdict != rules.Allowed || r.State != result.StateEstablished ||
		r.Name != "enrollment.manage.microsoft.com" {
		t.Errorf("connection around the far-future frame: %+v", r)
	}
	if got := c.summary.Capture.Quality.TimeJumps; got != 1 {
		t.Errorf("time_jumps %d, want 1", got)
	}
}

func TestHostileFragmentFlood(t *testing.T) {
	c := analyzeAllWorkers(t, hostileCase(t, "fragment-flood.pcap.gz"))
	q := c.summary.Capture.Quality
	// 5,000 first fragments: the 4,097th overflows the 4,096-datagram cap and drops all 4,097 held; the 903
	// after it are dropped at the end of the capture or by their timeout, which the capture does not reach.
	if q.FragmentsDropped < 4097 {
		t.Errorf("fragments_dropped %d, want at least 4097 (quality %+v)", q.FragmentsDropped, q)
	}
	if r := flowTo(c, addr(hostile.Server(4))); r == nil || r.Name != "enrollment.manage.microsoft.com" {
		t.Errorf("connection after the flood: %+v", r)
	}
}

func TestHostileDNSIDReuse(t *testing.T) {
	c := analyzeAllWorkers(t, hostileCase(t, "dns-id-reuse.pcap.gz"))
	for i := 0; i < 40; i++ {
		r := flowTo(c, addr(hostile.Server(100+i)))
		if want := fmt.Sprintf("r%d.manage.microsoft.com", i); r == nil || r.Name != want || r.NameSource != result.NameFromDNS {
			t.Errorf("SYN %d: %+v, want named %s by dns", i, r, want)
		}
	}
}

func TestHostileUnlistedNames(t *testing.T) {
	const n = 30000
	c := analyzeAllWorkers(t, hostileCase(t, "unlisted-names.pcap.gz"))
	s := c.summary
	if len(s.Unlisted) != 10000 {
		t.Fatalf("%d unlisted names listed, want the cap, 10000", len(s.Unlisted))
	}
	if !s.UnlistedNamesEstimated || s.UnlistedNames < n*97/100 || s.UnlistedNames > n*103/100 {
		t.Errorf("unlisted_names %d (estimated %v), want about %d", s.UnlistedNames, s.UnlistedNamesEstimated, n)
	}
	// Each name has two records (its lookup and its SYN); the list keeps the alphabetically first 10,000.
	listed := 0
	for _, u := range s.Unlisted {
		if u.Count != 2 || u.Name > hostile.UnlistedName(9999) {
			t.Fatalf("listed %+v: want the first 10000 names, 2 records each", u)
		}
		listed += u.Count
	}
	if s.UnlistedOmitted != 2*n-listed {
		t.Errorf("unlisted_omitted_records %d, want %d", s.UnlistedOmitted, 2*n-listed)
	}
}

// peakRSSLimit bounds the peak resident memory of an analysis of a hostile capture.
const peakRSSLimit = 512 << 20

// TestHostileDNSCNAMEBomb analyzes 40 answers of 1,200 CNAMEs and 2,400 addresses each (a 360 KB capture that
// stood for 28 GB when each address kept its own copy of the chain) in a child process per worker count, and
// bounds its peak memory. The records must agree between worker counts and name each connection by the last
// answer, with its chain cut at 16 CNAMEs and the rest counted.
func TestHostileDNSCNAMEBomb(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: the bomb takes seconds; the race detector multiplies memory")
	}
	path := hostileCase(t, "dns-cname-bomb.pcap.gz")
	var sums []string
	for _, workers := range []int{1, 2} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$", "-test.v")
		cmd.Env = append(os.Environ(), "HOSTILE_INPUT="+path, "HOSTILE_WORKERS="+strconv.Itoa(workers))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		var peak int64
		var sum string
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "peak: "); ok {
				peak, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(line, "sum: "); ok {
				sum = v
			}
			if v, ok := strings.CutPrefix(line, "bad: "); ok {
				t.Errorf("%d workers: %s", workers, v)
			}
		}
		if peak == 0 || sum == "" {
			t.Fatalf("child output:\n%s", out)
		}
		if peak > peakRSSLimit {
			t.Errorf("%d workers: peak RSS %d MiB, over %d MiB", workers, peak>>20, peakRSSLimit>>20)
		}
		t.Logf("%d workers: peak RSS %d MiB", workers, peak>>20)
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] {
		t.Errorf("1 and 2 workers differ")
	}
}

// TestHostileChild analyzes HOSTILE_INPUT with HOSTILE_WORKERS workers and prints a digest of the output, what
// is wrong with it, and its peak resident memory.
func TestHostileChild(t *testing.T) {
	path := os.Getenv("HOSTILE_INPUT")
	if path == "" {
		t.Skip("the child of TestHostileDNSCNAMEBomb")
	}
	workers, _ := strconv.Atoi(os.Getenv("HOSTILE_WORKERS"))
	c := analyzeWith(t, workers, path)
	for a := 0; a < 100; a++ {
		r := flowTo(c, addr(hostile.BombAddr(39*2400+a)))
		if r == nil || r.Name != "q39.manage.microsoft.com" || len(r.DNSChain) != 1+16+1+1 ||
			r.DNSChain[17] != "… 1184 more" {
			fmt.Printf("bad: connection %d: %+v\n", a, r)
			break
		}
	}
	sum := sha256.Sum256([]byte(encode(t, c)))
	fmt.Printf("sum: %x\n", sum)
	fmt.Printf("peak: %d\n", vmHWM(t))
}

// vmHWM is this process's peak resident memory, from /proc.
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
