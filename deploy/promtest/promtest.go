// Package promtest runs Debian's prometheus on loopback for tests of the files in deploy/: it writes a
// configuration, starts the server with a temporary database, waits until it is ready and queries its HTTP API.
// Everything it starts is stopped by the test's cleanup.
package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireTool returns the path of a command the test needs. A missing one fails the test under CI=true (a
// check that cannot run must not pass there) and skips it elsewhere, naming the package that provides it.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found (Debian package %s; scripts/deps.sh installs it)", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Config is what the server scrapes and evaluates.
type Config struct {
	Targets   []string // host:port of /metrics endpoints, scraped every second as job "intunecap"
	RuleFiles []string // absolute paths of rule files, evaluated every second
	// Alertmanagers are host:port of Alertmanagers the server sends its alerts to.
	Alertmanagers []string
	// Wrap is put before the prometheus command, e.g. "ip netns exec NS" to run it inside a network
	// namespace; nil runs it here.
	Wrap []string
	// Fetch gets a URL of the server; nil uses an HTTP client here. With Wrap, pass one that runs inside the
	// same namespace.
	Fetch func(ctx context.Context, url string) ([]byte, error)
}

// Server is one running prometheus.
type Server struct {
	URL   string // http://127.0.0.1:PORT
	fetch func(ctx context.Context, url string) ([]byte, error)
	cmd   *exec.Cmd
	log   *bytes.Buffer
	done  chan struct{}
}

// Start writes the configuration into a temporary directory and starts prometheus on a free loopback port.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin := RequireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte(configText(cfg)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, cfg.Wrap...), bin,
		"--config.file="+conf,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+fmt.Sprintf("127.0.0.1:%d", port),
		"--log.level=warn")
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), fetch: cfg.Fetch, log: &bytes.Buffer{},
		done: make(chan struct{})}
	if s.fetch == nil {
		s.fetch = httpGet
	}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	s.waitReady(t, 30*time.Second, "Ready")
	return s
}

// configText is the prometheus.yml for cfg.
func configText(cfg Config) string {
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	if len(cfg.RuleFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range cfg.RuleFiles {
			fmt.Fprintf(&b, "  - %q\n", f)
		}
	}
	if len(cfg.Alertmanagers) > 0 {
		b.WriteString("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: " + yamlList(cfg.Alertmanagers) + "\n")
	}
	b.WriteString("scrape_configs:\n  - job_name: intunecap\n    static_configs:\n      - targets: " + yamlList(cfg.Targets) + "\n")
	return b.String()
}

// yamlList writes strings as a YAML flow sequence.
func yamlList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// freePort asks the kernel for a loopback port that is free now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func httpGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// waitReady polls /-/ready until the server answers with want in the body, it exits, or the limit passes.
func (s *Server) waitReady(t testing.TB, limit time.Duration, want string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("prometheus exited before it was ready:\n%s", s.log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		body, err := s.fetch(ctx, s.URL+"/-/ready")
		cancel()
		if err == nil && bytes.Contains(body, []byte(want)) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready within %s:\n%s", limit, s.log)
}

// stop ends the server and waits for it.
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Log is what the server printed so far, for failure messages.
func (s *Server) Log() string { return s.log.String() }

// Sample is one series of an instant query's result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// apiResponse is the envelope of every /api/v1 answer.
type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// get calls an API path and returns its data, or the server's error (bad PromQL is "bad_data: ...").
func (s *Server) get(ctx context.Context, path string) (json.RawMessage, error) {
	body, err := s.fetch(ctx, s.URL+path)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("get %s: bad answer %q: %w", path, truncate(body), err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return r.Data, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// Query runs an instant PromQL query now and returns its samples: a vector's series, or a scalar as one
// sample without labels.
func (s *Server) Query(ctx context.Context, expr string) ([]Sample, error) {
	data, err := s.get(ctx, "/api/v1/query?query="+url.QueryEscape(expr))
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	var result struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &result); err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	switch result.ResultType {
	case "vector":
		var out []Sample
		err := json.Unmarshal(result.Result, &out)
		return out, err
	case "scalar":
		var v [2]any
		err := json.Unmarshal(result.Result, &v)
		return []Sample{{Value: v}}, err
	}
	return nil, fmt.Errorf("query %q: result type %q is not a vector or scalar", expr, result.ResultType)
}

// Alert is one alert the server holds, pending or firing.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	Receivers   []string          `json:"-"` // Alertmanager's receivers for it
}

// Alerts returns the server's pending and firing alerts.
func (s *Server) Alerts(ctx context.Context) ([]Alert, error) {
	data, err := s.get(ctx, "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	var out struct {
		Alerts []Alert `json:"alerts"`
	}
	err = json.Unmarshal(data, &out)
	return out.Alerts, err
}

// RuleHealth is a loaded rule's state: "unknown" before its first evaluation, then "ok" or "err" with the error.
type RuleHealth struct {
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

// Rules returns each loaded rule's health by name.
func (s *Server) Rules(ctx context.Context) (map[string]RuleHealth, error) {
	data, err := s.get(ctx, "/api/v1/rules")
	if err != nil {
		return nil, err
	}
	var out struct {
		Groups []struct {
			Rules []struct {
				Name string `json:"name"`
				RuleHealth
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	health := make(map[string]RuleHealth)
	for _, g := range out.Groups {
		for _, r := range g.Rules {
			health[r.Name] = r.RuleHealth
		}
	}
	return health, nil
}

// poll calls try every 200 ms until it reports done or ctx ends; it returns try's last error, or ctx's.
func poll(ctx context.Context, try func() (bool, error)) error {
	for {
		done, err := try()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitQuery runs an instant query until it returns at least one sample, and returns them.
func (s *Server) WaitQuery(ctx context.Context, expr string) ([]Sample, error) {
	var got []Sample
	err := poll(ctx, func() (bool, error) {
		var err error
		got, err = s.Query(ctx, expr)
		return err == nil && len(got) > 0, err
	})
	if err != nil {
		return nil, fmt.Errorf("query %q returned nothing: %w", expr, err)
	}
	return got, nil
}

// WantAlert is a firing alert by name and, when RuleKey is set, requirement row.
type WantAlert struct{ Name, RuleKey string }

func (w WantAlert) matches(a Alert) bool {
	return a.State == "firing" && a.Labels["alertname"] == w.Name && (w.RuleKey == "" || a.Labels["rule_key"] == w.RuleKey)
}

// WaitAlerts polls the alerts until every wanted one fires, and returns all the server holds then.
func (s *Server) WaitAlerts(ctx context.Context, want []WantAlert) ([]Alert, error) {
	var alerts []Alert
	var missing []WantAlert
	err := poll(ctx, func() (bool, error) {
		var err error
		alerts, err = s.Alerts(ctx)
		missing = missing[:0]
		for _, w := range want {
			found := false
			for _, a := range alerts {
				found = found || w.matches(a)
			}
			if !found {
				missing = append(missing, w)
			}
		}
		return err == nil && len(missing) == 0, err
	})
	if err != nil {
		return alerts, fmt.Errorf("alerts %v not firing: %w; alerts held: %+v", missing, err, alerts)
	}
	return alerts, nil
}

// CheckAnnotations says what is wrong with a firing alert's annotations: each of summary and description
// must be rendered (no template left, no missing value) and name the alert's instance.
func CheckAnnotations(a Alert) error {
	for _, key := range []string{"summary", "description"} {
		text := a.Annotations[key]
		if text == "" || strings.Contains(text, "{{") || strings.Contains(text, "<no value>") ||
			!strings.Contains(text, a.Labels["instance"]) {
			return fmt.Errorf("alert %s: %s %q is not rendered with instance %q", a.Labels["alertname"], key, text,
				a.Labels["instance"])
		}
	}
	if rk := a.Labels["rule_key"]; rk != "" && !strings.Contains(a.Annotations["summary"]+a.Annotations["description"], rk) {
		return fmt.Errorf("alert %s does not name the row %s: %v", a.Labels["alertname"], rk, a.Annotations)
	}
	return nil
}
