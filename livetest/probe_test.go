package livetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intunecap/intunecap/probe"
	"github.com/intunecap/intunecap/rules"
)

// The probe lab: a second labd answers DNS on probeDNS from a zone written by the test; a helper process
// (this test binary, re-run inside the gateway namespace) serves TLS with certificates of a "public" CA the
// probe is told to trust (--roots), of an inspection CA it is not, and of the public CA for another name,
// and answers NTP. iptables drops, refuses and resets after the ClientHello.
const (
	probeDNS   = "198.18.1.53"
	helperEnv  = "INTUNECAP_PROBE_HELPER_DIR"
	probeTable = `name: probelab
rules:
  - purpose: "Intune service"
    pattern: "*.manage.microsoft.com"
    ports: "80,443"
    probe: ["ok.manage.microsoft.com", "inspect.manage.microsoft.com", "drop.manage.microsoft.com",
            "refuse.manage.microsoft.com", "rst.manage.microsoft.com", "mismatch.manage.microsoft.com",
            "nx.manage.microsoft.com"]
  - purpose: "NTP"
    pattern: "time.windows.com"
    ports: "udp/123"
  - purpose: "Wildcard without hosts"
    pattern: "*.dm.microsoft.com"
    ports: "443"
  - purpose: "Ranges"
    cidr: "198.18.9.0/24"
    ports: "443"
`
)

// probeHosts are the lab's names, their addresses and what the network does to them.
var probeHosts = map[string]string{
	"ok.manage.microsoft.com":       "198.18.1.41", // TLS with a chain to the trusted lab root (DNAT to the helper)
	"inspect.manage.microsoft.com":  "198.18.1.42", // TLS re-signed by an inspection CA
	"drop.manage.microsoft.com":     "198.18.1.43", // iptables DROP
	"refuse.manage.microsoft.com":   "198.18.1.44", // iptables REJECT tcp-reset
	"rst.manage.microsoft.com":      "198.18.1.45", // reset after the ClientHello (string match on the SNI)
	"mismatch.manage.microsoft.com": "198.18.1.46", // a trusted chain for another name
	"time.windows.com":              "198.18.1.47", // NTP answered by the helper
}

// probeRecord is the part of a probe's JSON the tests check.
type probeRecord struct {
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	Port     int      `json:"port"`
	RuleKeys []string `json:"rule_keys"`
	RuleKey  string   `json:"rule_key"`
	Reason   string   `json:"reason"`
	Proxy    string   `json:"proxy"`
	Socket   struct {
		Outcome     string `json:"outcome"`
		Stage       string `json:"stage"`
		ProxyStatus int    `json:"proxy_status"`
		CertChain   string `json:"cert_chain"`
		Rcode       string `json:"rcode"`
	} `json:"socket"`
	Wire *struct {
		Verdict string `json:"verdict"`
		State   string `json:"state"`
		Stage   string `json:"stage"`
	} `json:"wire"`
	Evidence     string `json:"evidence"`
	Verdict      string `json:"verdict"`
	Intercepted  bool   `json:"intercepted"`
	Failed       bool   `json:"failed"`
	Disagreement string `json:"disagreement"`
}

// probeWant is one row of expectations: the socket's outcome, the wire's verdict ("" when the capture
// cannot have the connection), the settled verdict and whether the probe fails.
type probeWant struct {
	name            string
	port            int
	socket, wire    string
	verdict         string
	chain           string
	failed          bool
	proxyStatus     int
	stage, wireStag string
}

// TestProbeHelperServe is not a test: re-run inside the lab's gateway namespace with helperEnv set, it
// serves the TLS endpoints and NTP until killed.
func TestProbeHelperServe(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestProbe; runs only when started by it")
	}
	for _, s := range []struct{ addr, cert string }{
		{"198.18.1.41:9441", "ok"}, {"198.18.1.42:9442", "inspect"}, {"198.18.1.46:9446", "mismatch"},
	} {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, s.cert+".pem"), filepath.Join(dir, s.cert+".key"))
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", s.addr, &tls.Config{Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		go serveTLS(ln)
	}
	pc, err := net.ListenPacket("udp", "198.18.1.47:123")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644)
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 48 {
			continue
		}
		var resp [48]byte
		resp[0] = 4<<3 | 4 // version 4, mode server
		resp[1] = 2        // stratum
		copy(resp[24:32], buf[40:48])
		binary.BigEndian.PutUint64(resp[40:48], uint64(time.Now().Unix()+2208988800)<<32)
		pc.WriteTo(resp[:], from)
	}
}

func serveTLS(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			c.(*tls.Conn).Handshake()
			buf := make([]byte, 512)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				if _, err := c.Read(buf); err != nil {
					c.Close()
					return
				}
			}
		}()
	}
}

// probeLab is the lab with the probe's servers, zone and files.
type probeLab struct {
	*lab
	table, roots string
}

func startProbeLab(t *testing.T, zoneHosts map[string]string) *probeLab {
	t.Helper()
	l := startLab(t)
	os.Chmod(filepath.Dir(l.dir), 0o755) // the no-capture-rights run reads the table and roots as nobody
	pl := &probeLab{lab: l, table: filepath.Join(l.dir, "probelab.yaml"), roots: filepath.Join(l.dir, "roots.pem")}
	writeFile(t, pl.table, probeTable)
	writePKI(t, l.dir)
	var zone strings.Builder
	for name, addr := range zoneHosts {
		fmt.Fprintf(&zone, "%s A %s\n", name, addr)
	}
	zonePath := filepath.Join(l.dir, "probe-zone.txt")
	writeFile(t, zonePath, zone.String())
	pl.background(t, filepath.Join(l.dir, "labd"), "serve", "--zone", zonePath, "--dns", probeDNS+":53")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	helper := pl.background(t, self, "-test.run=^TestProbeHelperServe$")
	helper.Env = append(os.Environ(), helperEnv+"="+l.dir)
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	for _, r := range [][]string{
		{"-t", "nat", "-A", "PREROUTING", "-d", "198.18.1.41", "-p", "tcp", "--dport", "443", "-j", "DNAT", "--to-destination", "198.18.1.41:9441"},
		{"-t", "nat", "-A", "PREROUTING", "-d", "198.18.1.42", "-p", "tcp", "--dport", "443", "-j", "DNAT", "--to-destination", "198.18.1.42:9442"},
		{"-t", "nat", "-A", "PREROUTING", "-d", "198.18.1.46", "-p", "tcp", "--dport", "443", "-j", "DNAT", "--to-destination", "198.18.1.46:9446"},
		{"-A", "INPUT", "-d", "198.18.1.43", "-j", "DROP"},
		{"-A", "INPUT", "-d", "198.18.1.44", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "443", "-m", "string", "--string", "rst.manage.microsoft.com",
			"--algo", "bm", "-j", "REJECT", "--reject-with", "tcp-reset"},
	} {
		l.mustExec(t, "net", append([]string{"iptables"}, r...)...)
	}
	waitFile(t, filepath.Join(l.dir, "ready"))
	return pl
}

// background prepares a command inside the gateway namespace; labd is started here, the caller starts others.
func (pl *probeLab) background(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", pl.ns("net")}, args...)...)
	if strings.HasSuffix(args[0], "labd") {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
	return cmd
}

// probe runs intunecap probe in the device namespace with the json format and returns the document.
func (pl *probeLab) probe(t *testing.T, env []string, prefix []string, args ...string) (probeDoc, string, int) {
	t.Helper()
	full := append([]string{"netns", "exec", pl.ns("dev")}, prefix...)
	full = append(full, pl.bin, "probe", "--format", "json")
	full = append(full, args...)
	cmd := exec.Command("ip", full...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	var doc probeDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("probe output is not JSON: %v\n%s\n%s", err, out, stderr.String())
	}
	return doc, stderr.String(), cmd.ProcessState.ExitCode()
}

type probeDoc struct {
	Probes       []probeRecord `json:"probes"`
	NotProbeable []probeRecord `json:"not_probeable"`
	Records      []struct {
		Name    string `json:"name"`
		RuleKey string `json:"rule_key"`
		Verdict string `json:"verdict"`
	} `json:"records"`
	Summary struct {
		Rules []struct {
			Key    string `json:"key"`
			Status string `json:"status"`
		} `json:"rules"`
		Capture struct {
			Packets  int      `json:"packets"`
			Warnings []string `json:"warnings"`
		} `json:"capture"`
	} `json:"summary"`
}

func (d *probeDoc) find(name string, port int) *probeRecord {
	for i := range d.Probes {
		if d.Probes[i].Name == name && d.Probes[i].Port == port {
			return &d.Probes[i]
		}
	}
	return nil
}

// check compares every expectation; wire "" means the result must rest on the socket.
func (d *probeDoc) check(t *testing.T, want []probeWant, captured bool) {
	t.Helper()
	for _, w := range want {
		p := d.find(w.name, w.port)
		if p == nil {
			t.Errorf("%s:%d: no probe", w.name, w.port)
			continue
		}
		got := fmt.Sprintf("socket %s stage %s chain %s proxy %d verdict %s failed %v", p.Socket.Outcome, p.Socket.Stage,
			p.Socket.CertChain, p.Socket.ProxyStatus, p.Verdict, p.Failed)
		exp := fmt.Sprintf("socket %s stage %s chain %s proxy %d verdict %s failed %v", w.socket, w.stage, w.chain,
			w.proxyStatus, w.verdict, w.failed)
		if got != exp {
			t.Errorf("%s:%d: got %s\n want %s", w.name, w.port, got, exp)
		}
		switch {
		case !captured || w.wire == "":
			if p.Wire != nil || p.Evidence != "socket" {
				t.Errorf("%s:%d: wire %+v evidence %s, want the socket alone", w.name, w.port, p.Wire, p.Evidence)
			}
		case p.Wire == nil:
			t.Errorf("%s:%d: no wire record, want %s", w.name, w.port, w.wire)
		case p.Wire.Verdict != w.wire || p.Wire.Stage != w.wireStag || p.Evidence != "wire":
			t.Errorf("%s:%d: wire %s stage %s evidence %s, want %s stage %s", w.name, w.port, p.Wire.Verdict,
				p.Wire.Stage, p.Evidence, w.wire, w.wireStag)
		}
	}
}

var directWant = []probeWant{
	{name: "ok.manage.microsoft.com", port: 80, socket: "ok", wire: "allowed", verdict: "allowed"},
	{name: "ok.manage.microsoft.com", port: 443, socket: "ok", wire: "allowed", verdict: "allowed", chain: "public"},
	// The lab's servers speak TLS 1.3: the wire sees no certificate (hidden), the socket does.
	{name: "inspect.manage.microsoft.com", port: 443, socket: "ok", wire: "allowed", verdict: "intercepted", chain: "private", failed: true},
	{name: "mismatch.manage.microsoft.com", port: 443, socket: "ok", wire: "allowed", verdict: "intercepted", chain: "name-mismatch", failed: true},
	{name: "drop.manage.microsoft.com", port: 80, socket: "timeout", stage: "after-syn", wire: "blocked", wireStag: "after-syn", verdict: "blocked", failed: true},
	{name: "drop.manage.microsoft.com", port: 443, socket: "timeout", stage: "after-syn", wire: "blocked", wireStag: "after-syn", verdict: "blocked", failed: true},
	{name: "refuse.manage.microsoft.com", port: 443, socket: "refused", stage: "after-syn", wire: "reset", wireStag: "after-syn", verdict: "reset", failed: true},
	{name: "rst.manage.microsoft.com", port: 443, socket: "reset", stage: "after-client-hello", wire: "reset", wireStag: "after-client-hello", verdict: "reset", failed: true},
	{name: "rst.manage.microsoft.com", port: 80, socket: "ok", wire: "allowed", verdict: "allowed"},
	{name: "nx.manage.microsoft.com", port: 443, socket: "dns-failed", stage: "after-query", verdict: "blocked", failed: true},
	{name: "time.windows.com", port: 123, socket: "ok", wire: "allowed", verdict: "allowed"},
}

func TestProbe(t *testing.T) {
	pl := startProbeLab(t, probeHosts)
	args := []string{"-r", pl.table, "--dns", probeDNS, "--roots", pl.roots, "--timeout", "2s", "--proxy", "none"}

	t.Run("direct", func(t *testing.T) {
		written := filepath.Join(pl.dir, "probe.pcapng")
		doc, stderr, code := pl.probe(t, nil, nil, append(args, "--write", written)...)
		if code != 1 {
			t.Errorf("exit status %d, want 1\n%s", code, stderr)
		}
		doc.check(t, directWant, true)
		checkExplained(t, &doc, pl.table, []string{pl.table + ":3", pl.table + ":4"})
		if doc.Summary.Capture.Packets == 0 {
			t.Errorf("summary counts no captured packet")
		}
		if st, err := os.Stat(written); err != nil || st.Size() == 0 {
			t.Errorf("--write: %v", err)
		}
	})

	t.Run("no capture rights", func(t *testing.T) {
		if _, err := exec.LookPath("setpriv"); err != nil {
			unavailable(t, "no setpriv to drop privileges")
		}
		drop := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"}
		doc, stderr, code := pl.probe(t, nil, drop, args...)
		if code != 1 {
			t.Errorf("exit status %d, want 1\n%s", code, stderr)
		}
		if !strings.Contains(stderr, "wire evidence missing") || !strings.Contains(stderr, "setcap cap_net_raw,cap_net_admin+ep") {
			t.Errorf("stderr does not say wire evidence is missing and how to get it:\n%s", stderr)
		}
		if w := doc.Summary.Capture.Warnings; len(w) == 0 || !strings.Contains(w[len(w)-1], "wire evidence missing") {
			t.Errorf("summary warnings %q do not say wire evidence is missing", w)
		}
		doc.check(t, directWant, false)
	})
}

// TestProbeProxy goes through the lab's tinyproxy: :3128 filters (403) wustat.microsoft.com and lets
// others through (200), :3129 wants credentials (407); set with --proxy and with the environment.
func TestProbeProxy(t *testing.T) {
	l := startLab(t)
	table := filepath.Join(l.dir, "proxy.yaml")
	writeFile(t, table, `name: proxylab
rules:
  - pattern: "wustat.microsoft.com"
    ports: "80,443"
  - pattern: "enrollment.manage.microsoft.com"
    ports: "443"
`)
	run := func(t *testing.T, env []string, args ...string) probeDoc {
		pl := &probeLab{lab: l}
		doc, stderr, code := pl.probe(t, env, nil, append([]string{"-r", table, "--timeout", "3s"}, args...)...)
		if code != 1 {
			t.Errorf("exit status %d, want 1\n%s", code, stderr)
		}
		return doc
	}
	filtered := []probeWant{
		{name: "wustat.microsoft.com", port: 443, socket: "proxy-denied", stage: "after-connect", proxyStatus: 403,
			wire: "blocked", wireStag: "after-connect", verdict: "blocked", failed: true},
		{name: "wustat.microsoft.com", port: 80, socket: "proxy-denied", stage: "after-request", proxyStatus: 403,
			wire: "blocked", wireStag: "after-connect", verdict: "blocked", failed: true},
		// labd's self-signed certificate is what the tunnel reaches: a private chain.
		{name: "enrollment.manage.microsoft.com", port: 443, socket: "ok", proxyStatus: 200, chain: "private",
			wire: "allowed", verdict: "intercepted", failed: true},
	}
	auth := []probeWant{
		{name: "wustat.microsoft.com", port: 443, socket: "proxy-auth", stage: "after-connect", proxyStatus: 407,
			wire: "blocked", wireStag: "after-connect", verdict: "blocked", failed: true},
		{name: "wustat.microsoft.com", port: 80, socket: "proxy-auth", stage: "after-request", proxyStatus: 407,
			wire: "blocked", wireStag: "after-connect", verdict: "blocked", failed: true},
		{name: "enrollment.manage.microsoft.com", port: 443, socket: "proxy-auth", stage: "after-connect", proxyStatus: 407,
			wire: "blocked", wireStag: "after-connect", verdict: "blocked", failed: true},
	}
	t.Run("flag 403 and 200", func(t *testing.T) {
		doc := run(t, nil, "--proxy", "http://198.18.0.1:3128")
		doc.check(t, filtered, true)
	})
	t.Run("environment 407", func(t *testing.T) {
		doc := run(t, []string{"HTTPS_PROXY=198.18.0.1:3129", "http_proxy=http://198.18.0.1:3129"})
		doc.check(t, auth, true)
		for _, p := range doc.Probes {
			if p.Proxy != "http://198.18.0.1:3129" {
				t.Errorf("%s:%d went through %q, want the environment's proxy", p.Name, p.Port, p.Proxy)
			}
		}
	})
	t.Run("no_proxy and the system resolver", func(t *testing.T) {
		doc := run(t, []string{"HTTPS_PROXY=198.18.0.1:3129", "http_proxy=198.18.0.1:3129", "NO_PROXY=.microsoft.com"})
		for _, p := range doc.Probes {
			if p.Proxy != "" {
				t.Errorf("%s:%d went through %q despite NO_PROXY", p.Name, p.Port, p.Proxy)
			}
		}
		// Direct, resolved by the namespace's resolver (labd's zone.txt); labd's certificate is self-signed.
		doc.check(t, []probeWant{
			{name: "wustat.microsoft.com", port: 80, socket: "ok", wire: "allowed", verdict: "allowed"},
			{name: "wustat.microsoft.com", port: 443, socket: "ok", wire: "allowed", verdict: "intercepted", chain: "private", failed: true},
			{name: "enrollment.manage.microsoft.com", port: 443, socket: "ok", wire: "allowed", verdict: "intercepted", chain: "private", failed: true},
		}, true)
	})
}

// TestProbeFullTable probes every probeable name of intune-current, all answered by a generated zone, and
// checks it ends within 30 s with every row probed or explained.
func TestProbeFullTable(t *testing.T) {
	table, err := rules.Load([]string{"intune-current"})
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := probe.Select(table)
	zone := map[string]string{}
	for _, tg := range targets {
		if _, ok := zone[tg.Host]; !ok {
			zone[tg.Host] = fmt.Sprintf("198.18.1.%d", 100+len(zone)%150)
		}
	}
	zone["time.windows.com"] = "198.18.1.47"
	pl := startProbeLab(t, zone)
	// Apple's push port: labd serves TLS on 443 only.
	pl.mustExec(t, "net", "iptables", "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "5223", "-j", "REDIRECT", "--to-ports", "443")
	start := time.Now()
	doc, stderr, code := pl.probe(t, nil, nil, "-r", "intune-current", "--dns", probeDNS, "--proxy", "none")
	elapsed := time.Since(start)
	t.Logf("%d probes of intune-current in %s", len(doc.Probes), elapsed.Round(time.Millisecond))
	if elapsed > 30*time.Second {
		t.Errorf("full table took %s, want under 30 s", elapsed)
	}
	if code != 1 { // labd's self-signed certificate is a private chain on every TLS probe
		t.Errorf("exit status %d, want 1\n%s", code, stderr)
	}
	if len(doc.Probes) != len(targets) {
		t.Errorf("%d probes, want %d", len(doc.Probes), len(targets))
	}
	for _, p := range doc.Probes {
		if p.Socket.Outcome != "ok" {
			t.Errorf("%s:%d: socket %s (%s), want ok: every name is answered in the lab", p.Name, p.Port,
				p.Socket.Outcome, p.Socket.Stage)
		}
	}
	checkExplained(t, &doc, "intune-current", nil)
}

// checkExplained checks every row of the table is probed or listed as not probeable (with a reason), and
// that the rows in wantSkipped are among the latter.
func checkExplained(t *testing.T, doc *probeDoc, spec string, wantSkipped []string) {
	t.Helper()
	table, err := rules.Load([]string{spec})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range doc.Probes {
		for _, k := range p.RuleKeys {
			seen[k] = true
		}
	}
	skipped := map[string]bool{}
	for _, np := range doc.NotProbeable {
		if np.Reason == "" {
			t.Errorf("%s: not probeable without a reason", np.RuleKey)
		}
		skipped[np.RuleKey] = true
	}
	for _, r := range table.Rules {
		if !seen[r.Key()] && !skipped[r.Key()] {
			t.Errorf("%s (%s) is neither probed nor explained", r.Key(), r.Target())
		}
	}
	for _, k := range wantSkipped {
		if !skipped[k] {
			t.Errorf("%s: want it listed as not probeable", k)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for range 100 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within 10 s: the helper did not start", path)
}

// writePKI writes the lab's trusted root (roots.pem), and leaf certificates with keys: ok (trusted root,
// right name), inspect (an inspection CA's, right name), mismatch (trusted root, another name).
func writePKI(t *testing.T, dir string) {
	t.Helper()
	pub, pubKey := newCA(t, "intunecap lab public root")
	insp, inspKey := newCA(t, "Contoso TLS Inspection CA")
	writeFile(t, filepath.Join(dir, "roots.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pub.Raw})))
	for _, leaf := range []struct {
		file, name string
		ca         *x509.Certificate
		key        *ecdsa.PrivateKey
	}{
		{"ok", "ok.manage.microsoft.com", pub, pubKey},
		{"inspect", "inspect.manage.microsoft.com", insp, inspKey},
		{"mismatch", "www.example.net", pub, pubKey},
	} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: leaf.name},
			DNSNames: []string{leaf.name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, leaf.ca, &key.PublicKey, leaf.key)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		writeFile(t, filepath.Join(dir, leaf.file+".pem"), string(chain))
		writeFile(t, filepath.Join(dir, leaf.file+".key"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	}
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
