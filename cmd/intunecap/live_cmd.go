package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/intunecap/intunecap/analyze"
	"github.com/intunecap/intunecap/analyze/certchain"
	"github.com/intunecap/intunecap/capture/live"
	"github.com/intunecap/intunecap/internal/bytesize"
	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/metrics"
	"github.com/intunecap/intunecap/outcome"
	"github.com/intunecap/intunecap/report"
	"github.com/intunecap/intunecap/rules"
)

const liveUsage = `usage: intunecap live -i IFACE [flags]

Watch an interface and report each Intune connection's verdict as soon as it is known: when the
handshake completes with a name, a reset arrives, a SYN stays unanswered for --syn-wait, or a DNS
answer or its timeout arrives. Ctrl-C (or SIGTERM) stops the capture, finishes what is open and
prints the summary; a second Ctrl-C exits at once.

Capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN:
  sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v intunecap)"

Exit status: 0 nothing failed, 1 some record has a verdict in --fail-on, 2 usage error, no
permission to capture, or a capture error, 3 inconclusive (no Intune traffic seen, or the
interface dropped too much).

Flags:
`

// liveFlags holds the live command's options.
type liveFlags struct {
	iface     string
	bpf       string
	method    string // --capture-method
	snapLen   int
	promisc   bool
	buffer    string
	duration  time.Duration
	count     uint64
	rules     []string
	format    string
	failOn    string
	color     string
	write     string
	writeMax  string
	writeKeep int
	metrics   string
	synWait   time.Duration
	trust     string // --trust: extra CA certificates (PEM)
	cpuProf   string // --cpuprofile
}

// Live-mode timing (docs/live.md): verdicts come within seconds instead of at the end of a capture.
const (
	// defaultSynWait: Windows gives up on a connection after about 21 s (SYN and two retransmissions), so 30 s
	// after the last SYN every Windows connection has its verdict. Linux retransmits for up to 127 s; a
	// retransmission after the wait becomes a second "unanswered" record for the same connection.
	defaultSynWait = 30 * time.Second
	// liveHoldDNS is how long a failed lookup waits for a successful retry before it is reported.
	liveHoldDNS = 5 * time.Second
)

func (f *liveFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.iface, "interface", "i", "", "capture on `IFACE` (see intunecap interfaces)")
	fs.StringVar(&f.bpf, "bpf", "", "libpcap filter `EXPR` to cut load, e.g. \"tcp port 443 or port 53 or port 80\" (needs the cgo build)")
	fs.StringVar(&f.method, "capture-method", "auto", "how packets come from the kernel, `METHOD`: afpacket (Linux), pcap (libpcap) or auto (afpacket on Linux)")
	fs.IntVar(&f.snapLen, "snaplen", live.DefaultSnapLen, "bytes kept of each `N`-byte packet (whole ClientHellos need the default)")
	fs.BoolVar(&f.promisc, "promisc", false, "promiscuous mode: also see traffic not addressed to this host (SPAN port)")
	fs.StringVar(&f.buffer, "buffer", "64MiB", "kernel ring buffer `SIZE`: larger rides out longer bursts")
	fs.DurationVar(&f.duration, "duration", 0, "stop by itself after `D` (e.g. 10m)")
	fs.Uint64Var(&f.count, "count", 0, "stop by itself after `N` packets")
	fs.StringArrayVarP(&f.rules, "rules", "r", nil, "requirement table `RULES`: a profile ("+strings.Join(rules.Profiles(), ", ")+") or a file; repeat to merge (default intune-2015)")
	fs.StringVarP(&f.format, "format", "f", "text", "output `FORMAT`: text (a line per problem, the summary on exit) or jsonl (a record a line)")
	fs.StringVar(&f.failOn, "fail-on", "blocked,reset,intercepted", "`VERDICTS` that make the exit status 1, comma-separated, or \"none\"")
	fs.StringVar(&f.color, "color", "auto", "colour the text summary: `WHEN` is auto, always or never")
	fs.StringVarP(&f.write, "write", "w", "", "also save the capture to `FILE`.pcapng, for analyze later")
	fs.StringVar(&f.writeMax, "write-max", "100MB", "start a new --write file past `SIZE` (0: never)")
	fs.IntVar(&f.writeKeep, "write-keep", 10, "keep the newest `N` --write files (0: all)")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (e.g. :9180), path /metrics")
	fs.DurationVar(&f.synWait, "syn-wait", defaultSynWait, "report an unanswered SYN `D` after its last retransmission")
	fs.StringVar(&f.cpuProf, "cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	registerTrust(fs, &f.trust)
}

func runLive(args []string, stdout, stderr io.Writer) int {
	var f liveFlags
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, liveUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "intunecap live: %v\nRun 'intunecap live -h' for usage.\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "intunecap live: unexpected argument %q (the interface goes with -i)\n", fs.Arg(0))
		return 2
	}
	code, err := liveCapture(&f, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "intunecap live: %v\n", err)
	}
	return code
}

// permissionHint is the one line a user without capture rights reads.
func permissionHint(err error) error {
	exe, _ := os.Executable()
	if exe == "" {
		exe = "intunecap"
	}
	return fmt.Errorf("%w: run as root or grant the capture capabilities once: sudo setcap cap_net_raw,cap_net_admin=eip %s", err, exe)
}

// liveSetup is everything a live run opens before the first packet, so every mistake fails before capturing.
type liveSetup struct {
	failOn   []rules.Verdict
	table    *rules.Table
	maxW     int64
	buffer   int64
	method   live.Method
	verifier *certchain.Verifier // TLS chains: public roots and --trust
}

func (f *liveFlags) check() (*liveSetup, error) {
	var s liveSetup
	var err error
	switch {
	case f.iface == "":
		return nil, errors.New("no interface given: use -i IFACE (intunecap interfaces lists them)")
	case f.format != "text" && f.format != "jsonl":
		return nil, fmt.Errorf("--format: %q is not text or jsonl", f.format)
	case f.color != "auto" && f.color != "always" && f.color != "never":
		return nil, fmt.Errorf("--color: %q is not auto, always or never", f.color)
	case f.snapLen < 64 || f.snapLen > live.DefaultSnapLen:
		return nil, fmt.Errorf("--snaplen: %d is not between 64 and %d", f.snapLen, live.DefaultSnapLen)
	case f.writeKeep < 0:
		return nil, fmt.Errorf("--write-keep: %d is negative", f.writeKeep)
	case f.synWait < time.Second:
		return nil, fmt.Errorf("--syn-wait: %s is shorter than a second", f.synWait)
	}
	if s.method, err = live.ParseMethod(f.method); err != nil {
		return nil, fmt.Errorf("--capture-method: %w", err)
	}
	if s.failOn, err = parseFailOn(f.failOn); err != nil {
		return nil, err
	}
	if s.maxW, err = bytesize.Parse(f.writeMax); err != nil {
		return nil, fmt.Errorf("--write-max: %w", err)
	}
	if s.buffer, err = bytesize.Parse(f.buffer); err != nil || s.buffer > 1<<31-1 {
		return nil, fmt.Errorf("--buffer: bad size %q", f.buffer)
	}
	if s.table, err = rules.Load(f.rules); err != nil {
		return nil, err
	}
	if s.verifier, err = loadVerifier(f.trust); err != nil {
		return nil, err
	}
	return &s, nil
}

// liveCapture runs one live capture and returns the exit status with the error that explains a status 2.
func liveCapture(f *liveFlags, stdout, stderr io.Writer) (int, error) {
	setup, err := f.check()
	if err != nil {
		return 2, err
	}
	stopProf, err := startCPUProfile(f.cpuProf)
	if err != nil {
		return 2, err
	}
	defer stopProf()
	h, err := live.Open(live.Options{Interface: f.iface, Method: setup.method, SnapLen: f.snapLen,
		Promisc: f.promisc, BPF: f.bpf, BufferSize: int(setup.buffer)})
	if errors.Is(err, live.ErrPermission) {
		return 2, permissionHint(err)
	}
	if err != nil {
		return 2, err
	}
	defer h.Close()
	var writer *pcapRotator
	if f.write != "" {
		if writer, err = newPcapRotator(f.write, setup.maxW, f.writeKeep, f.iface, f.bpf, h.LinkType(), h.SnapLen()); err != nil {
			return 2, err
		}
	}
	var m *metrics.Metrics
	if f.metrics != "" {
		m = metrics.New(metrics.Options{Table: setup.table, Version: moduleVersion(), Start: time.Now()})
		stop, err := serveMetrics(f.metrics, m, stderr)
		if err != nil {
			return 2, err
		}
		defer stop()
	}
	return runLiveLoop(f, setup, h, writer, m, stdout, stderr)
}

// serveMetrics listens at once (so a busy port is an error before capturing) and serves /metrics until stop.
func serveMetrics(addr string, m *metrics.Metrics, stderr io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "intunecap live: metrics: %v\n", err)
		}
	}()
	fmt.Fprintf(stderr, "intunecap live: metrics on http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// runLiveLoop wires the engine to the capture and the output, runs until stopped and writes the summary.
func runLiveLoop(f *liveFlags, setup *liveSetup, h *live.Handle, writer *pcapRotator, m *metrics.Metrics,
	stdout, stderr io.Writer) (int, error) {
	w, err := report.New(f.format, stdout, report.Options{Color: useColor(f.color, stdout), FailOn: setup.failOn})
	if err != nil {
		return 2, err
	}
	sink := &liveSink{out: w, metrics: m, failOn: setup.failOn}
	if f.format == "text" {
		sink.problems = stdout
		if isTerminal(stderr) {
			sink.status = stderr
		}
	}
	opts := analyze.Options{Matcher: rules.NewMatcher(setup.table), FailOn: setup.failOn,
		HalfOpenTimeout: f.synWait, ClosedLinger: time.Nanosecond, HoldDNSFailures: liveHoldDNS,
		ReportEstablished: true, Verifier: setup.verifier}
	hooks := &liveHooks{h: h, writer: writer, metrics: m, status: sink, iface: h.Name(), link: h.LinkType().String(),
		warn: func(format string, args ...any) { fmt.Fprintf(stderr, "intunecap live: "+format+"\n", args...) }}
	if writer != nil {
		writer.report(m, func(format string, args ...any) { sink.clear(); hooks.warn(format, args...) })
	}
	ctx, stop := liveContext(f.duration, stderr)
	defer stop()
	fmt.Fprintf(stderr, "intunecap live: capturing on %s (%s, snaplen %d, %s); Ctrl-C stops and prints the summary\n",
		h.Name(), h.LinkType(), h.SnapLen(), h.Method())
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	src := newLiveSource(ctx, h, ticker.C, f.count, time.Now)
	judge := newJudge(sink, setup.table, outcome.Policy{FailOn: setup.failOn})
	if err := errors.Join(hooks.run(src, opts, judge), w.Close()); err != nil {
		return 2, err
	}
	return exitStatus(judge.Final()), nil
}

// liveContext is cancelled by the first SIGINT or SIGTERM, or after d; a second signal exits at once.
func liveContext(d time.Duration, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	if d > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), d)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "\nintunecap live: interrupted again, exiting without the summary")
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// isTerminal says whether w is a terminal, where a status line can be redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const interfacesUsage = `usage: intunecap interfaces

List the interfaces live can capture on, with their state and addresses.
`

func runInterfaces(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("interfaces", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, interfacesUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "intunecap interfaces: %v\nRun 'intunecap interfaces -h' for usage.\n", err)
		return 2
	}
	list, err := live.Interfaces()
	if err != nil {
		fmt.Fprintf(stderr, "intunecap interfaces: %v\n", err)
		return 2
	}
	writeInterfaces(stdout, list)
	return 0
}

// writeInterfaces prints one interface a line: name, state, addresses, description.
func writeInterfaces(w io.Writer, list []live.Interface) {
	width := 4
	for _, itf := range list {
		width = max(width, len(itf.Name))
	}
	for _, itf := range list {
		var state []string
		for _, s := range []struct {
			on   bool
			word string
		}{{itf.Up, "up"}, {itf.Running, "running"}, {itf.Loopback, "loopback"}} {
			if s.on {
				state = append(state, s.word)
			}
		}
		if len(state) == 0 {
			state = []string{"down"}
		}
		addrs := make([]string, len(itf.Addresses))
		for i, a := range itf.Addresses {
			addrs[i] = a.String()
		}
		line := fmt.Sprintf("%-*s  %-19s %s", width, safetext.Text(itf.Name), strings.Join(state, ","),
			strings.Join(addrs, " "))
		if itf.Description != "" {
			line += "  (" + safetext.Text(itf.Description) + ")"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}
