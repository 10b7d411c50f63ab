package livetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/intunecap/intunecap/deploy/unitfile"
)

// nobody is the unprivileged user the test runs live as, standing in for the unit's DynamicUser.
const nobody = 65534

// TestUnitPrivileges runs live in the lab with the flags of deploy/systemd/intunecap-live.service and only the
// privileges the unit gives it: an unprivileged user, CAP_NET_RAW and CAP_NET_ADMIN as ambient capabilities
// and the only ones in the bounding set, no_new_privs, and a state directory it owns as the only place it
// writes. It must capture, give verdicts on its metrics, write the capture file and stop cleanly on SIGTERM.
// The unit's interface, metrics address and state directory are replaced by the lab's.
func TestUnitPrivileges(t *testing.T) {
	l := startLab(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		unavailable(t, "no setpriv to run as the unit's user")
	}
	for _, r := range blockRules {
		l.mustExec(t, "net", append([]string{"iptables"}, r...)...)
	}
	unit := filepath.Join(l.repo, "deploy/systemd/intunecap-live.service")
	d, err := unitfile.Section(unit, "Service")
	if err != nil {
		t.Fatal(err)
	}
	args, err := unitfile.ExecArgs(d["ExecStart"][0])
	if err != nil {
		t.Fatal(err)
	}
	// Its own directory in /tmp: the test's temporary directories are not open to other users.
	state, err := os.MkdirTemp("", "icap-unit-state-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	if err := os.Chown(state, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	metricsAddr := "127.0.0.1:9184"
	args = unitArgsForLab(t, args, map[string]string{"-i": "veth0", "--metrics": metricsAddr},
		"/var/lib/"+d["StateDirectory"][0], state)

	caps := "-all,+net_raw,+net_admin"
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.ns("net"), "setpriv",
		fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody), "--clear-groups",
		"--inh-caps=" + caps, "--ambient-caps=" + caps, "--bounding-set=" + caps, "--no-new-privs",
		l.bin}, args[1:]...)...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	waitFor(t, 10*time.Second, done, &out, func() bool { return strings.Contains(out.String(), "capturing on") })

	for _, sc := range scenarios {
		if sc.name == "tls allowed" || sc.name == "syn refused" {
			l.exec("dev", 10*time.Second, sc.client...)
		}
	}
	want := []string{
		`intunecap_connections_total{rule="*.manage.microsoft.com",rule_key="intune-2015:1",verdict="allowed"} 1`,
		`intunecap_connections_total{rule="download.windowsupdate.com",rule_key="intune-2015:18",verdict="reset"} 1`,
	}
	var body string
	waitFor(t, 15*time.Second, done, &out, func() bool {
		body, _ = l.exec("net", 5*time.Second, "curl", "-sf", "http://"+metricsAddr+"/metrics")
		return !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(body, w) })
	})

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("live did not stop within 15 s of SIGTERM\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status %d after SIGTERM, want 1 (a reset was seen)\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "Requirements") {
		t.Errorf("no summary on SIGTERM:\n%s", out.String())
	}
	files, _ := filepath.Glob(filepath.Join(state, "*.pcapng"))
	if len(files) == 0 {
		t.Fatalf("nothing written in the state directory\n%s", out.String())
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody || fi.Size() == 0 {
			t.Errorf("%s: owner %d, %d bytes; want written by %d", f, st.Uid, fi.Size(), nobody)
		}
	}
}

// unitArgsForLab replaces the values of the given flags and moves paths under the unit's state directory to
// the test's; a flag the unit does not give is an error, so the test follows the unit.
func unitArgsForLab(t *testing.T, args []string, values map[string]string, unitState, state string) []string {
	t.Helper()
	out := slices.Clone(args)
	for flag, v := range values {
		i := slices.Index(out, flag)
		if i < 0 || i+1 >= len(out) {
			t.Fatalf("the unit's ExecStart %q has no %s", args, flag)
		}
		out[i+1] = v
	}
	moved := false
	for i, a := range out {
		if strings.HasPrefix(a, unitState+"/") {
			out[i] = state + strings.TrimPrefix(a, unitState)
			moved = true
		}
	}
	if !moved {
		t.Fatalf("the unit's ExecStart %q writes nothing under %s", args, unitState)
	}
	if len(out) < 2 || out[1] != "live" {
		t.Fatalf("the unit's ExecStart %q does not run live", args)
	}
	return out
}

// waitFor polls cond every 200 ms until it holds; the process ending or the limit passing fails the test.
func waitFor(t *testing.T, limit time.Duration, done <-chan struct{}, out *lockedBuffer, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for !cond() {
		select {
		case <-done:
			t.Fatalf("live exited early:\n%s", out.String())
		case <-ctx.Done():
			t.Fatalf("condition not met within %s:\n%s", limit, out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// lockedBuffer is a bytes.Buffer a process writes to while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
