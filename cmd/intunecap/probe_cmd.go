package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/intunecap/intunecap/probe"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/rules"
)

const probeUsage = `usage: intunecap probe [flags]

Contact every endpoint of the requirement tables the way a managed device would (HTTP HEAD on
TCP 80, a TLS handshake with SNI on TCP 443, an NTP request on UDP 123), directly or through
the proxy, while capturing the probes' own traffic; then analyze that capture and report, for
every row, the socket's result and the wire's verdict side by side. Rows without a concrete
host (a wildcard without a probe list, an address range) are listed with the reason.

Capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN; without them the probe still runs and
judges from the sockets alone, and says so. --dry-run lists what would be contacted.

Exit status: 0 nothing failed, 1 some probe failed (a verdict in --fail-on, or an
intercepted TLS chain), 2 usage or input error.

Flags:
`

// probeFlags holds the probe command's options.
type probeFlags struct {
	rules       []string
	iface       string
	write       string
	proxy       string
	dns         string
	format      string
	output      string
	failOn      string
	color       string
	roots       string
	concurrency int
	timeout     time.Duration
	dryRun      bool
}

func (f *probeFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge (default intune-2015)")
	fs.StringVarP(&f.iface, "interface", "i", "", "capture on `IFACE` (default: the interface of the route to the first endpoint)")
	fs.StringVarP(&f.write, "write", "w", "", "keep the capture in `FILE` (pcapng), for analyze later")
	fs.StringVar(&f.proxy, "proxy", "", "HTTP proxy `URL` for every probe, or \"none\" (default: https_proxy, http_proxy, no_proxy as curl reads them)")
	fs.StringVar(&f.dns, "dns", "", "resolve with DNS `SERVER` (address[:port], UDP) instead of the system resolver")
	fs.StringVarP(&f.format, "format", "f", "text", "output `FORMAT`: "+strings.Join(report.Formats(), ", "))
	fs.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringVar(&f.failOn, "fail-on", "blocked,reset,intercepted", "`VERDICTS` that make a probe fail, comma-separated, or \"none\"")
	fs.StringVar(&f.color, "color", "auto", "colour the text report: `WHEN` is auto, always or never")
	fs.StringVar(&f.roots, "roots", "", "judge certificate chains against the PEM roots in `FILE` instead of the built-in public roots")
	fs.IntVar(&f.concurrency, "concurrency", probe.DefaultConcurrency, "probe at most `N` endpoints at once")
	fs.DurationVar(&f.timeout, "timeout", probe.DefaultTimeout, "give each probe `D` (connect to answer; the lookup has as long again)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "list what would be contacted (name, port, method, proxy) and contact nothing")
}

func runProbe(args []string, stdout, stderr io.Writer) int {
	var f probeFlags
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, probeUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "intunecap probe: %v\nRun 'intunecap probe -h' for usage.\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "intunecap probe: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	code, err := probeMain(&f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap probe: %v\n", err)
	}
	return code
}

// probeSetup is everything checked before the first packet is sent.
type probeSetup struct {
	failOn   []rules.Verdict
	table    *rules.Table
	targets  []probe.Target
	skipped  []probe.Skipped
	resolver probe.Resolver
	dnsAddr  netip.Addr // --dns server, for the capture filter
	opts     probe.Options
}

func (f *probeFlags) check(env func(string) string) (*probeSetup, error) {
	s := &probeSetup{}
	var err error
	switch {
	case f.concurrency < 1 || f.concurrency > 256:
		return nil, fmt.Errorf("--concurrency: %d is not between 1 and 256", f.concurrency)
	case f.timeout < 100*time.Millisecond || f.timeout > 5*time.Minute:
		return nil, fmt.Errorf("--timeout: %s is not between 100ms and 5m", f.timeout)
	case f.color != "auto" && f.color != "always" && f.color != "never":
		return nil, fmt.Errorf("--color: %q is not auto, always or never", f.color)
	case !validFormat(f.format):
		return nil, fmt.Errorf("--format: %q is not %s", f.format, strings.Join(report.Formats(), ", "))
	}
	if s.failOn, err = parseFailOn(f.failOn); err != nil {
		return nil, err
	}
	if s.table, err = rules.Load(f.rules); err != nil {
		return nil, err
	}
	s.targets, s.skipped = probe.Select(s.table)
	proxy, err := probe.ProxyFromFlag(f.proxy, env)
	if err != nil {
		return nil, err
	}
	var roots probe.Roots
	if f.roots != "" {
		roots, err = probe.RootsFromFile(f.roots)
	} else {
		roots, err = probe.PublicRoots()
	}
	if err != nil {
		return nil, fmt.Errorf("--roots: %w", err)
	}
	s.resolver = probe.SystemResolver{}
	if f.dns != "" {
		server, err := parseDNSServer(f.dns)
		if err != nil {
			return nil, err
		}
		s.resolver, s.dnsAddr = &probe.DNSClient{Server: server, Timeout: f.timeout}, server.Addr()
	}
	s.opts = probe.Options{Proxy: proxy, Timeout: f.timeout, Concurrency: f.concurrency,
		UserAgent: "intunecap-probe/" + moduleVersion(), Roots: roots, Now: time.Now}
	return s, nil
}

func validFormat(format string) bool {
	for _, f := range report.Formats() {
		if f == format {
			return true
		}
	}
	return false
}

// parseDNSServer reads --dns: an address, or address:port ("[v6]:port" for IPv6).
func parseDNSServer(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 53), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("--dns: %q is not an address or address:port", s)
	}
	return ap, nil
}

// probeMain runs the command and returns the exit status with the error that explains a status 2.
func probeMain(f *probeFlags, stdout, stderr io.Writer) (int, error) {
	s, err := f.check(os.Getenv)
	if err != nil {
		return 2, err
	}
	for _, w := range s.opts.Proxy.Warnings {
		fmt.Fprintf(stderr, "intunecap probe: warning: %s\n", w)
	}
	if f.dryRun {
		return 0, writeDryRun(stdout, s)
	}
	out, err := openOutput(f.output, stdout) // before any probe, so a bad path costs nothing
	if err != nil {
		return 2, err
	}
	ctx, stop := liveContext(0, stderr)
	defer stop()
	plan := probe.Resolve(ctx, s.targets, s.resolver, &s.opts)
	pc, err := startProbeCapture(ctx, f, s, plan, stderr)
	if err != nil {
		out.finish(false)
		return 2, err
	}
	results := probe.Run(ctx, plan, &s.opts)
	wire, err := pc.finish(f, s)
	if err != nil {
		out.finish(false)
		return 2, err
	}
	others := probe.Merge(results, wire.records, s.failOn)
	err = writeProbeReport(f, s, results, others, wire, out.w)
	if err := cmp.Or(err, out.finish(err == nil)); err != nil {
		out.finish(false)
		return 2, err
	}
	for _, r := range results {
		if r.Failed {
			return 1, nil
		}
	}
	return 0, nil
}

// writeDryRun lists what a run would contact, and the rows it would not.
func writeDryRun(w io.Writer, s *probeSetup) error {
	var b strings.Builder
	for i := range s.targets {
		t := &s.targets[i]
		via := "direct"
		if u := s.opts.Proxy.For(t.Host, t.Method); u != nil {
			via = "via proxy " + u.String()
		}
		fmt.Fprintf(&b, "%s %s/%s %s %s  rows %s\n", t.Host, t.Proto, strconv.Itoa(int(t.Port)), t.Method, via,
			strings.Join(t.RuleKeys(), " "))
	}
	for _, np := range probe.NotProbeableOf(s.skipped) {
		ports := ""
		if np.Ports != "" {
			ports = " " + np.Ports
		}
		target := np.Rule
		if target == "" {
			target = "(" + np.Purpose + ")"
		}
		fmt.Fprintf(&b, "not probeable %s %s%s: %s\n", np.RuleKey, target, ports, np.Reason)
	}
	fmt.Fprintf(&b, "%d probes, %d rows or ports not probeable; nothing was contacted (--dry-run)\n",
		len(s.targets), len(s.skipped))
	_, err := io.WriteString(w, b.String())
	return err
}
