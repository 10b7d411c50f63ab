package allowlist

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/rules"
)

// needTool returns the path of a program the test runs, or skips saying why; under CI=true a missing tool
// fails, so CI cannot pass by skipping.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: install the Debian package %s (scripts/deps.sh does)", name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestSquidParses has squid itself parse a minimal squid.conf that includes the ACL lines and uses every ACL
// they define, and fails on any warning, error or fatal message.
func TestSquidParses(t *testing.T) {
	squid := needTool(t, "squid", "squid")
	for _, all := range []bool{false, true} {
		dir := t.TempDir()
		var acl bytes.Buffer
		if err := Write("squid", &acl, fixtureSummary(), Options{All: all}); err != nil {
			t.Fatal(err)
		}
		aclPath := filepath.Join(dir, "intunecap.acl")
		if err := os.WriteFile(aclPath, acl.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		conf := "http_port 127.0.0.1:3128\ninclude " + aclPath + "\n"
		for _, m := range regexp.MustCompile(`(?m)^# allow with: (http_access allow \S+)$`).FindAllStringSubmatch(acl.String(), -1) {
			conf += m[1] + "\n"
		}
		conf += "http_access deny all\n"
		if !strings.Contains(conf, "intunecap_regex") || !strings.Contains(conf, "intunecap_nets") {
			t.Fatalf("the fixture should use every ACL:\n%s", conf)
		}
		confPath := filepath.Join(dir, "squid.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := runTool(t, squid, "-k", "parse", "-f", confPath)
		if err != nil {
			t.Fatalf("squid -k parse: %v\n%s", err, out)
		}
		if bad := regexp.MustCompile(`(?m)^.*(WARNING|ERROR|FATAL|Bungled).*$`).FindAllString(out, -1); len(bad) > 0 {
			t.Errorf("squid complains about the ACL lines (all=%v):\n%s", all, strings.Join(bad, "\n"))
		}
	}
}

// TestPACEvaluates runs the PAC file in node with the standard helper functions and checks every name against
// the rules matcher, the reference for what the selected patterns mean: a name one of them matches goes
// DIRECT, any other to the proxy.
func TestPACEvaluates(t *testing.T) {
	node := needTool(t, "node", "nodejs")
	const proxy = "proxy.example:3128"
	var pac bytes.Buffer
	if err := Write("pac", &pac, fixtureSummary(), Options{PACProxy: proxy}); err != nil {
		t.Fatal(err)
	}
	names := []string{"a.manage.microsoft.com", "manage.microsoft.com", "mymanage.microsoft.com", "x.y.manage.microsoft.com",
		"manage.microsoft.com.evil.example", "autodiscover.contoso.onmicrosoft.com", "autodiscover.a.b.onmicrosoft.com",
		"b.xn--bcher-kva.example", "xn--bcher-kva.example", "q.b.example", "b.example", "cdn.x.example.com",
		"mycdn.x.example.com", "cdn.example.com", "www.example.org", "login.microsoftonline.com",
		"a.social.technet.microsoft.com", "in-range.example", "out-of-range.example"}
	resolve := map[string]string{"in-range.example": "13.107.219.77", "out-of-range.example": "13.107.220.1"}
	want := referenceRoutes(t, names, proxy)
	want["in-range.example"] = "DIRECT"
	// Case and a final dot do not change a name.
	names = append(names, "A.MANAGE.Microsoft.COM.")
	want["A.MANAGE.Microsoft.COM."] = "DIRECT"

	dir := t.TempDir()
	pacPath, casesPath := filepath.Join(dir, "proxy.pac"), filepath.Join(dir, "cases.json")
	cases, _ := json.Marshal(map[string]any{"names": names, "resolve": resolve})
	if err := os.WriteFile(pacPath, pac.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(casesPath, cases, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, node, filepath.Join("testdata", "pac", "harness.js"), pacPath, casesPath)
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("%s: PAC says %q, want %q", n, got[n], want[n])
		}
	}
	if want["a.manage.microsoft.com"] != "DIRECT" || want["www.example.org"] != "PROXY "+proxy {
		t.Fatalf("reference routes are wrong: %v", want)
	}
}

// referenceRoutes is where each name should go: DIRECT when a selected name pattern of the fixture matches
// it by the rules matcher, else the proxy.
func referenceRoutes(t *testing.T, names []string, proxy string) map[string]string {
	t.Helper()
	var yaml strings.Builder
	yaml.WriteString("rules:\n")
	for _, e := range selectRows(fixtureSummary(), false) {
		if e.err == nil && e.target.kind != kindCIDR {
			fmt.Fprintf(&yaml, "  - purpose: x\n    pattern: %q\n    ports: \"443\"\n", e.row.Pattern)
		}
	}
	table, err := rules.ParseTable("ref", []byte(yaml.String()))
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewMatcher(table)
	out := map[string]string{}
	for _, n := range names {
		out[n] = "PROXY " + proxy
		if m.Match(n, rules.TCP, 443).Rule != nil {
			out[n] = "DIRECT"
		}
	}
	return out
}

// runTool runs a program with a time limit and returns its combined output.
func runTool(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}
