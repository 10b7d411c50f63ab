package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/intunecap/intunecap/capture"
	"github.com/intunecap/intunecap/capture/live"
	"github.com/intunecap/intunecap/probe"
	"github.com/intunecap/intunecap/result"
)

// probeLinger is how long the capture runs after the last probe, for the closing FINs and RSTs.
const probeLinger = 500 * time.Millisecond

// maxFilterHosts bounds the capture filter; a plan with more addresses captures their ports instead.
const maxFilterHosts = 400

// probeCapture is the capture taken while probing, or the reason there is none.
type probeCapture struct {
	h       *live.Handle
	writer  *pcapRotator
	path    string
	tmpDir  string
	done    chan error
	missing string // why there is no wire evidence; "" when capturing
	once    sync.Once
}

// wireEvidence is what the analysis of the probe capture gave.
type wireEvidence struct {
	records []result.Record // nil without a capture
	summary *result.Summary
	note    string // why wire evidence is missing, for the report
}

// startProbeCapture opens the capture before the first probe. Without the right to capture, or in a build
// without libpcap, it returns a capture that only explains why wire evidence is missing.
func startProbeCapture(ctx context.Context, f *probeFlags, s *probeSetup, plan probe.Plan, stderr io.Writer) (*probeCapture, error) {
	addrs := append(plan.Addrs(), probe.ProxyAddrs(ctx, s.opts.Proxy)...)
	if s.dnsAddr.IsValid() {
		addrs = append(addrs, s.dnsAddr)
	}
	if len(addrs) == 0 {
		return &probeCapture{missing: "no endpoint resolved: there was nothing to capture"}, nil
	}
	iface := f.iface
	if iface == "" {
		var err error
		if iface, err = outgoingInterface(addrs[0]); err != nil {
			return &probeCapture{missing: err.Error()}, nil
		}
	}
	bpf := probeFilter(addrs)
	h, err := live.Open(live.Options{Interface: iface, BPF: bpf})
	if errors.Is(err, live.ErrPermission) || errors.Is(err, live.ErrNoLibpcap) {
		c := &probeCapture{missing: missingHint(err)}
		fmt.Fprintf(stderr, "intunecap probe: warning: %s\n", c.missing)
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	c := &probeCapture{h: h, path: f.write, done: make(chan error, 1)}
	if c.path == "" {
		if c.tmpDir, err = os.MkdirTemp("", "intunecap-probe-"); err != nil {
			h.Close()
			return nil, fmt.Errorf("capture file: %w", err)
		}
		c.path = filepath.Join(c.tmpDir, "probe.pcapng")
	}
	if c.writer, err = newPcapRotator(c.path, 0, 0, iface, bpf, h.LinkType(), h.SnapLen()); err != nil {
		h.Close()
		c.cleanup()
		return nil, err
	}
	fmt.Fprintf(stderr, "intunecap probe: capturing on %s (%s)\n", iface, h.LinkType())
	go c.read()
	return c, nil
}

// missingHint says what is missing and how to get wire evidence.
func missingHint(err error) string {
	exe, _ := os.Executable()
	if exe == "" {
		exe = "intunecap"
	}
	beside := "take a capture beside the probe (tcpdump -w, or pktmon on Windows) and run intunecap analyze on it"
	if errors.Is(err, live.ErrNoLibpcap) {
		return fmt.Sprintf("wire evidence missing (%v): the verdicts rest on the sockets alone; to capture, use "+
			"the libpcap (cgo) build of intunecap, or %s", err, beside)
	}
	return fmt.Sprintf("wire evidence missing (%v): the verdicts rest on the sockets alone; to capture, run as root "+
		"(sudo), or grant the capabilities once (sudo setcap cap_net_raw,cap_net_admin+ep %s), or %s", err, exe, beside)
}

func (c *probeCapture) read() {
	for {
		fr, err := c.h.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			c.done <- err
			return
		}
		if err := c.writer.write(&fr); err != nil {
			c.done <- err
			return
		}
	}
}

// finish stops the capture, analyzes it with the same pipeline as analyze, and returns its records.
func (c *probeCapture) finish(f *probeFlags, s *probeSetup) (wireEvidence, error) {
	if c.h == nil {
		return wireEvidence{note: c.missing}, nil
	}
	defer c.cleanup()
	time.Sleep(probeLinger)
	c.h.Close()
	readErr := <-c.done
	st, _ := c.h.Stats()
	if err := errors.Join(readErr, c.writer.close(&st)); err != nil {
		return wireEvidence{}, err
	}
	reader, err := capture.Open([]string{c.path})
	if err != nil {
		return wireEvidence{}, err
	}
	defer reader.Close()
	keep := &recordKeeper{}
	p := pipeline{Reader: reader, Paths: []string{c.path}, Table: s.table, FailOn: s.failOn, Sink: keep,
		Stderr: io.Discard, Prefix: "intunecap probe", Workers: 1, Verifier: s.opts.Roots.Verifier()}
	summary, err := p.run()
	if err != nil {
		if reader.Stats().Frames == 0 {
			return wireEvidence{records: []result.Record{}, note: "the capture saw no packet of the probes"}, nil
		}
		return wireEvidence{}, fmt.Errorf("analyze the probe capture: %w", err)
	}
	if keep.records == nil {
		keep.records = []result.Record{}
	}
	if c.tmpDir != "" {
		summary.Capture.Files = []string{"(the probe's capture, not kept: --write FILE keeps it)"}
	}
	return wireEvidence{records: keep.records, summary: summary}, nil
}

// cleanup removes the temporary capture, unless --write named it.
func (c *probeCapture) cleanup() {
	c.once.Do(func() {
		if c.tmpDir != "" {
			os.RemoveAll(c.tmpDir)
		}
	})
}

// recordKeeper is the sink of the probe capture's analysis: it keeps copies of every record.
type recordKeeper struct {
	records []result.Record
	summary *result.Summary
}

func (k *recordKeeper) Record(r *result.Record) error {
	k.records = append(k.records, *r)
	return nil
}

func (k *recordKeeper) Summary(s *result.Summary) error {
	k.summary = s
	return nil
}

// probeFilter limits the capture to the probes' own traffic: the addresses they contact, the proxy and
// the DNS server.
func probeFilter(addrs []netip.Addr) string {
	seen := map[netip.Addr]bool{}
	var hosts []string
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			hosts = append(hosts, "host "+a.String())
		}
	}
	if len(hosts) > maxFilterHosts {
		return "tcp port 80 or tcp port 443 or udp port 123 or port 53"
	}
	return strings.Join(hosts, " or ")
}

// outgoingInterface is the interface whose address the route to dst leaves from.
func outgoingInterface(dst netip.Addr) (string, error) {
	src, ok := probe.SourceAddr(dst)
	if !ok {
		return "", fmt.Errorf("no route to %s: cannot choose an interface to capture on (use -i)", dst)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("list interfaces: %w", err)
	}
	for _, itf := range ifs {
		addrs, _ := itf.Addrs()
		for _, a := range addrs {
			if pfx, err := netip.ParsePrefix(a.String()); err == nil && pfx.Addr().Unmap() == src {
				return itf.Name, nil
			}
		}
	}
	return "", fmt.Errorf("no interface has the address %s the route to %s leaves from (use -i)", src, dst)
}
