package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProxyThatStartsAskingForAuthenticationIsWorse makes a baseline in which the Basic-auth proxy met every
// proxy requirement (proxy-407's own baseline with its proxy rows set to ok), then checks proxy-407 against it:
// the unauthenticated requirement went from ok to failing, which is WORSE and fails the check.
func TestProxyThatStartsAskingForAuthenticationIsWorse(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	capture := "../../testdata/pcaps/proxy-407.pcap"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"baseline", "-o", base, capture}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("baseline exited %d: %s", code, stderr.String())
	}
	var b map[string]any
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	proxyRows := 0
	for _, r := range b["requirements"].([]any) {
		row := r.(map[string]any)
		if strings.HasPrefix(row["key"].(string), "proxy:198.18.0.1:3129:") {
			row["status"] = "ok"
			proxyRows++
		}
	}
	if proxyRows != 3 {
		t.Fatalf("the baseline has %d proxy requirement rows, want 3", proxyRows)
	}
	data, _ = json.Marshal(b)
	if err := os.WriteFile(base, data, 0o644); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(dir, "junit.xml")
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"check", "--baseline", base, "--report", "junit=" + junit, capture}, nil, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("check exited %d, want 1: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "WORSE  requirement proxy:198.18.0.1:3129:unauthenticated") {
		t.Errorf("the proxy that now asks for authentication is not WORSE:\n%s", stdout.String())
	}
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(x), "proxy:198.18.0.1:3129:unauthenticated") {
		t.Error("the JUnit report does not name the proxy requirement")
	}
}

// TestNoProxyNoProxiesSection checks that a capture without a proxy shows neither a Proxies section nor proxy
// requirement rows, in text and JSON.
func TestNoProxyNoProxiesSection(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var stdout, stderr bytes.Buffer
		run([]string{"analyze", "-q", "--format", format, "../../testdata/pcaps/tls-allowed.pcap"}, nil, &stdout, &stderr)
		for _, s := range []string{"Proxies", "proxies", "proxy:"} {
			if strings.Contains(stdout.String(), s) {
				t.Errorf("%s report of a capture without a proxy mentions %q", format, s)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	run([]string{"analyze", "-q", "../../testdata/pcaps/proxy-auth.pcap"}, nil, &stdout, &stderr)
	for _, s := range []string{"\nProxies\n", "requires authentication (Basic), which Intune does not support", "unauthenticated FAILING"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("proxy-auth's text report lacks %q:\n%s", s, stdout.String())
		}
	}
}
