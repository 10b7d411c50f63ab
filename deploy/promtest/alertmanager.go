package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// AlertmanagerConfig says how to run Debian's Alertmanager (the binary is prometheus-alertmanager).
type AlertmanagerConfig struct {
	ConfigFile string   // the alertmanager.yml to run
	Wrap       []string // as Config.Wrap
	Fetch      func(ctx context.Context, url string) ([]byte, error)
}

// Alertmanager is one running Alertmanager, alone (clustering off), on a free loopback port.
type Alertmanager struct {
	Addr string // 127.0.0.1:PORT, for Config.Alertmanagers
	URL  string
	srv  Server // the process and its fetcher; its API is Alertmanager's, not Prometheus's
}

// StartAlertmanager starts Alertmanager with a temporary data directory and waits until it is ready.
func StartAlertmanager(t testing.TB, cfg AlertmanagerConfig) *Alertmanager {
	t.Helper()
	bin := RequireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	port := freePort(t)
	am := &Alertmanager{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	am.URL = "http://" + am.Addr
	args := append(append([]string{}, cfg.Wrap...), bin,
		"--config.file="+cfg.ConfigFile,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+am.Addr,
		"--cluster.listen-address=", // no gossip port: nothing but loopback
		"--log.level=warn")
	am.srv = Server{URL: am.URL, fetch: cfg.Fetch, log: &bytes.Buffer{}, done: make(chan struct{})}
	if am.srv.fetch == nil {
		am.srv.fetch = httpGet
	}
	am.srv.cmd = exec.Command(args[0], args[1:]...)
	am.srv.cmd.Stdout, am.srv.cmd.Stderr = am.srv.log, am.srv.log
	if err := am.srv.cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	go func() { am.srv.cmd.Wait(); close(am.srv.done) }()
	t.Cleanup(am.srv.stop)
	am.srv.waitReady(t, 30*time.Second, "OK")
	return am
}

// Log is what Alertmanager printed so far.
func (am *Alertmanager) Log() string { return am.srv.Log() }

// Alerts returns the alerts Alertmanager holds (API v2), as Prometheus alerts: labels, annotations, and the
// state "active", "suppressed" or "unprocessed".
func (am *Alertmanager) Alerts(ctx context.Context) ([]Alert, error) {
	body, err := am.srv.fetch(ctx, am.URL+"/api/v2/alerts")
	if err != nil {
		return nil, fmt.Errorf("alertmanager alerts: %w", err)
	}
	var raw []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		Status      struct {
			State string `json:"state"`
		} `json:"status"`
		Receivers []struct {
			Name string `json:"name"`
		} `json:"receivers"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("alertmanager alerts: bad answer %q: %w", truncate(body), err)
	}
	out := make([]Alert, len(raw))
	for i, a := range raw {
		out[i] = Alert{Labels: a.Labels, Annotations: a.Annotations, State: a.Status.State}
		for _, r := range a.Receivers {
			out[i].Receivers = append(out[i].Receivers, r.Name)
		}
	}
	return out, nil
}

// WaitAlert polls until Alertmanager holds an active alert with every given label, and returns it.
func (am *Alertmanager) WaitAlert(ctx context.Context, labels map[string]string) (Alert, error) {
	var found Alert
	err := poll(ctx, func() (bool, error) {
		alerts, err := am.Alerts(ctx)
		for _, a := range alerts {
			if a.State == "active" && hasLabels(a, labels) {
				found = a
				return true, nil
			}
		}
		return false, err
	})
	if err != nil {
		return found, fmt.Errorf("alertmanager has no active alert %v: %w", labels, err)
	}
	return found, nil
}

func hasLabels(a Alert, labels map[string]string) bool {
	for k, v := range labels {
		if a.Labels[k] != v {
			return false
		}
	}
	return true
}
