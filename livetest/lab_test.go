package livetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lab is one network lab (tools/netlab/lab.sh) with the intunecap binary built for it.
type lab struct {
	id, repo, bin, dir string
}

// unavailable fails in CI and skips elsewhere: a live test that cannot run must not pass silently in CI.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("live lab cannot run in CI: %s", msg)
	}
	t.Skipf("live lab skipped: %s", msg)
}

// startLab checks the prerequisites, builds intunecap and brings the lab up; cleanup brings it down.
func startLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "needs root for network namespaces and iptables (run as root, or CI=true in CI)")
	}
	for _, tool := range []string{"ip", "ss", "iptables", "curl", "dig", "tinyproxy", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "missing tool %s (scripts/deps.sh installs it)", tool)
		}
	}
	probe := fmt.Sprintf("icap-probe-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		unavailable(t, "no network namespaces: %v: %s", err, out)
	}
	exec.Command("ip", "netns", "del", probe).Run()

	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // the permission test runs the binary as nobody
	l := &lab{id: fmt.Sprintf("lt%d", os.Getpid()), repo: repo, bin: filepath.Join(dir, "intunecap"), dir: dir}
	l.run(t, 2*time.Minute, "go", "build", "-o", l.bin, "./cmd/intunecap")
	l.run(t, 2*time.Minute, "go", "build", "-o", filepath.Join(dir, "labd"), "./tools/netlab/labd")
	t.Cleanup(func() { l.script(t, "down") })
	l.script(t, "up")
	return l
}

// run runs a command in the repository and fails the test if it fails.
func (l *lab) run(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = l.repo
	cmd.Env = append(os.Environ(), "LAB_ID="+l.id, "LABD="+filepath.Join(l.dir, "labd"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// script runs tools/netlab/lab.sh.
func (l *lab) script(t *testing.T, args ...string) string {
	t.Helper()
	return l.run(t, time.Minute, "bash", append([]string{"tools/netlab/lab.sh"}, args...)...)
}

// ns names a side of the lab: "dev" (the managed device) or "net" (the gateway, where intunecap runs).
func (l *lab) ns(side string) string { return "icap-" + l.id + "-" + side }

// exec runs a command inside a namespace and returns its output; failures are what some scenarios are about.
func (l *lab) exec(side string, limit time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.ns(side)}, args...)...).CombinedOutput()
	return string(out), err
}

// mustExec is exec for set-up steps that must succeed.
func (l *lab) mustExec(t *testing.T, side string, args ...string) string {
	t.Helper()
	out, err := l.exec(side, 30*time.Second, args...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", side, strings.Join(args, " "), err, out)
	}
	return out
}

// liveProc is a running "intunecap live" whose output lines are read as they come.
type liveProc struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line; closed at EOF
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{}
	err    error
}

// startLive runs intunecap live inside the gateway namespace and waits until it captures.
func (l *lab) startLive(t *testing.T, args ...string) *liveProc {
	t.Helper()
	full := append([]string{"netns", "exec", l.ns("net"), l.bin, "live", "-i", "veth0"}, args...)
	p := &liveProc{cmd: exec.Command("ip", full...), lines: make(chan string, 1024), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go p.readStderr(stderr, ready)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("intunecap live exited before capturing: %v\n%s", p.err, p.stderrText())
	case <-time.After(10 * time.Second):
		t.Fatalf("intunecap live did not start capturing within 10 s\n%s", p.stderrText())
	}
	return p
}

func (p *liveProc) readStderr(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	once := sync.Once{}
	for sc.Scan() {
		p.mu.Lock()
		p.stderr.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		if strings.Contains(sc.Text(), "capturing on") {
			once.Do(func() { close(ready) })
		}
	}
}

func (p *liveProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends SIGINT and waits for the exit status; the remaining output stays in lines.
func (p *liveProc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("intunecap live did not exit within 15 s of SIGINT\n%s", p.stderrText())
	}
	return p.cmd.ProcessState.ExitCode()
}
