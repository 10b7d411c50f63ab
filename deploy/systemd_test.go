package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/deploy/promtest"
	"github.com/intunecap/intunecap/deploy/unitfile"
)

// unitBinary is the path ExecStart names; the tests put a freshly built intunecap there in a copy of the unit.
const unitBinary = "/usr/local/bin/intunecap"

// unitDirectives reads the unit's [Service] section.
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	d, err := unitfile.Section(path, "Service")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestUnitHardening requires the sandboxing the unit promises, read from the file itself.
func TestUnitHardening(t *testing.T) {
	d := unitDirectives(t, unitFile)
	exact := map[string]string{
		"DynamicUser":             "yes",
		"AmbientCapabilities":     "CAP_NET_RAW CAP_NET_ADMIN",
		"CapabilityBoundingSet":   "CAP_NET_RAW CAP_NET_ADMIN",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"StateDirectory":          "intunecap",
		"SystemCallArchitectures": "native",
	}
	for key, want := range exact {
		if got := d[key]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%v, want %s", key, got, want)
		}
	}
	if families := strings.Fields(strings.Join(d["RestrictAddressFamilies"], " ")); !slices.Contains(families, "AF_PACKET") ||
		slices.ContainsFunc(families, func(f string) bool { return strings.HasPrefix(f, "~") }) {
		t.Errorf("RestrictAddressFamilies=%v: want an allow list with AF_PACKET", families)
	}
	if !slices.Contains(d["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter=%v lacks @system-service", d["SystemCallFilter"])
	}
	state := "/var/lib/" + d["StateDirectory"][0]
	for _, p := range d["ReadWritePaths"] {
		if p != state && !strings.HasPrefix(p, state+"/") {
			t.Errorf("ReadWritePaths=%s is outside the state directory %s", p, state)
		}
	}
	args := execArgs(t, d)
	if i := slices.Index(args, "--write"); i < 0 || !strings.HasPrefix(args[i+1], state+"/") {
		t.Errorf("ExecStart %v: --write must name a file in %s", args, state)
	}
}

// execArgs is the unit's one ExecStart, split into words.
func execArgs(t *testing.T, d map[string][]string) []string {
	t.Helper()
	if len(d["ExecStart"]) != 1 {
		t.Fatalf("ExecStart=%v, want one", d["ExecStart"])
	}
	args, err := unitfile.ExecArgs(d["ExecStart"][0])
	if err != nil {
		t.Fatal(err)
	}
	return args
}

// TestUnitVerify builds intunecap, puts it where a copy of the unit's ExecStart points, and requires that
// systemd-analyze verify accepts the unit, that its exposure score stays at 2.0 or below, and that intunecap
// accepts every flag ExecStart gives it.
func TestUnitVerify(t *testing.T) {
	analyze := promtest.RequireTool(t, "systemd-analyze", "systemd")
	goTool := promtest.RequireTool(t, "go", "golang")
	dir := t.TempDir()
	bin := filepath.Join(dir, "intunecap")
	runTool(t, "..", goTool, "build", "-o", bin, "./cmd/intunecap")

	text, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "ExecStart="+unitBinary+" ") {
		t.Fatalf("ExecStart does not run %s", unitBinary)
	}
	unit := filepath.Join(dir, filepath.Base(unitFile))
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(text), unitBinary, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 on an unknown or misspelt key, with a warning: any output is a failure.
	if out := runTool(t, dir, analyze, "verify", unit); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify warns:\n%s", out)
	}
	out := runTool(t, dir, analyze, "security", "--offline=yes", "--threshold=20", unit)
	t.Logf("%s", lastLine(out))

	args := execArgs(t, unitDirectives(t, unit))
	if args[0] != bin || args[1] != "live" {
		t.Fatalf("ExecStart runs %v, want intunecap live", args[:2])
	}
	runTool(t, dir, bin, append(args[1:], "--help")...) // parses every flag before --help; exit 0
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
