package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Resolution is a host's addresses, or why it has none.
type Resolution struct {
	Addrs []netip.Addr
	Err   error
}

// Plan is the targets with their resolutions: everything Run needs, known before the capture starts so
// that its filter can name the addresses.
type Plan struct {
	Targets  []Target
	Resolved map[string]Resolution // by host; hosts probed through a proxy are not resolved here
}

// Resolve looks up every host probed directly, at most concurrency at once, each within timeout.
func Resolve(ctx context.Context, targets []Target, r Resolver, o *Options) Plan {
	var hosts []string
	seen := map[string]bool{}
	for i := range targets {
		t := &targets[i]
		if seen[t.Host] || o.Proxy.For(t.Host, t.Method) != nil {
			continue
		}
		seen[t.Host] = true
		hosts = append(hosts, t.Host)
	}
	res := make([]Resolution, len(hosts))
	forEach(len(hosts), o.Concurrency, func(i int) {
		c, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		addrs, err := r.Lookup(c, hosts[i])
		res[i] = Resolution{Addrs: addrs, Err: err}
	})
	plan := Plan{Targets: targets, Resolved: make(map[string]Resolution, len(hosts))}
	for i, h := range hosts {
		plan.Resolved[h] = res[i]
	}
	return plan
}

// Addrs lists every address the plan will contact directly, once each, in order.
func (p *Plan) Addrs() []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, t := range p.Targets {
		r := p.Resolved[t.Host]
		if len(r.Addrs) > 0 && !seen[r.Addrs[0]] {
			seen[r.Addrs[0]] = true
			out = append(out, r.Addrs[0])
		}
	}
	return out
}

// Run makes every target's attempt, at most o.Concurrency at once, and returns the results in target order.
// Each result has its socket outcome; Merge adds the wire's.
func Run(ctx context.Context, p Plan, o *Options) []Result {
	out := make([]Result, len(p.Targets))
	forEach(len(p.Targets), o.Concurrency, func(i int) {
		out[i] = runOne(ctx, &p.Targets[i], p.Resolved, o)
	})
	return out
}

func runOne(ctx context.Context, t *Target, resolved map[string]Resolution, o *Options) Result {
	r := Result{Type: "probe", Name: t.Host, Proto: t.Proto.String(), Port: t.Port, Method: t.Method,
		RuleKeys: t.RuleKeys(), Rule: t.Rules[0].Target(), Purpose: t.Rules[0].Purpose}
	proxy := o.Proxy.For(t.Host, t.Method)
	var addr netip.Addr
	if proxy != nil {
		r.Proxy = proxy.String()
	} else {
		res := resolved[t.Host]
		if res.Err != nil || len(res.Addrs) == 0 {
			detail := "no address"
			if res.Err != nil {
				detail = errText(res.Err)
			}
			r.Socket = Socket{Outcome: OutcomeDNSFailed, Stage: stageAfterQuery, Detail: detail}
			var rc *RcodeError
			var de *net.DNSError
			switch {
			case errors.As(res.Err, &rc):
				r.Socket.Rcode = rcodeName(rc.Rcode)
			case errors.As(res.Err, &de) && de.IsNotFound:
				r.Socket.Rcode = "NXDOMAIN"
			}
			return r
		}
		addr = res.Addrs[0]
	}
	r.Socket = attempt(ctx, t, addr, proxy, o)
	if proxy == nil {
		for _, a := range resolved[t.Host].Addrs {
			r.Socket.Addresses = append(r.Socket.Addresses, a.String())
		}
	}
	return r
}

// forEach calls f(0..n-1) on at most limit goroutines at once.
func forEach(n, limit int, f func(int)) {
	limit = max(1, limit)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// DefaultTimeout and DefaultConcurrency are the command's defaults.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultConcurrency = 8
)
