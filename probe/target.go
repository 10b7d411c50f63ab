package probe

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/intunecap/intunecap/rules"
)

// Method is what a probe sends on a port.
type Method string

// The methods, by port: HTTP HEAD on TCP 80, a TLS handshake on TCP 443 (and the other TLS ports Intune
// rows list), a plain TCP connect on any other TCP port, an NTP client request on UDP 123.
const (
	MethodHTTP    Method = "http-head"
	MethodTLS     Method = "tls-handshake"
	MethodConnect Method = "tcp-connect"
	MethodNTP     Method = "ntp"
)

// maxRangePorts is the widest port range a row may list and still be probed port by port.
const maxRangePorts = 16

// Target is one connection to make: a host on a port, and every row it tests. Rows sharing a host and port
// (the 2015 table lists "*.manage.microsoft.com" beside "*manage.microsoft.com") share one connection.
type Target struct {
	Host   string // ASCII, lower case
	Proto  rules.Proto
	Port   uint16
	Method Method
	Rules  []*rules.Rule
}

// Key is "host proto/port", unique among the targets of one selection.
func (t *Target) Key() string {
	return t.Host + " " + t.Proto.String() + "/" + strconv.Itoa(int(t.Port))
}

// RuleKeys lists the table:row keys of the rows the target tests.
func (t *Target) RuleKeys() []string {
	out := make([]string, len(t.Rules))
	for i, r := range t.Rules {
		out[i] = r.Key()
	}
	return out
}

// Skipped is a row, or part of a row, that cannot be probed, with the reason a report gives.
type Skipped struct {
	Rule   *rules.Rule
	Ports  string // the ports concerned; "" for the whole row
	Reason string
}

// Select turns a table into targets, in row order, and says why each row or port left out is left out:
// every row ends up in at least one Target or one Skipped.
func Select(t *rules.Table) ([]Target, []Skipped) {
	var targets []Target
	var skipped []Skipped
	index := map[string]int{}
	for _, r := range t.Rules {
		hosts, why := hostsOf(r)
		if why != "" {
			skipped = append(skipped, Skipped{Rule: r, Reason: why})
			continue
		}
		for _, pr := range r.Ports {
			method, ok := methodFor(pr)
			if !ok {
				skipped = append(skipped, Skipped{Rule: r, Ports: rules.FormatPorts([]rules.PortRange{pr}),
					Reason: skipReason(pr)})
				continue
			}
			for port := int(pr.Lo); port <= int(pr.Hi); port++ {
				for _, h := range hosts {
					tg := Target{Host: h, Proto: pr.Proto, Port: uint16(port), Method: method(uint16(port))}
					if i, ok := index[tg.Key()]; ok {
						targets[i].Rules = appendRule(targets[i].Rules, r)
						continue
					}
					tg.Rules = []*rules.Rule{r}
					index[tg.Key()] = len(targets)
					targets = append(targets, tg)
				}
			}
		}
	}
	return targets, skipped
}

func appendRule(list []*rules.Rule, r *rules.Rule) []*rules.Rule {
	for _, x := range list {
		if x == r {
			return list
		}
	}
	return append(list, r)
}

// hostsOf is the names a row is probed with, or why it has none.
func hostsOf(r *rules.Rule) ([]string, string) {
	switch {
	case r.IsNote():
		return nil, "note row: it names no endpoint"
	case r.Pattern == "":
		return nil, "address range: there is no host name to probe (its connections are judged in a capture)"
	case !strings.Contains(r.Pattern, "*"):
		host, err := rules.ToASCII(r.Pattern)
		if err != nil {
			return nil, fmt.Sprintf("pattern %q has no ASCII form: %v", r.Pattern, err)
		}
		return []string{strings.ToLower(host)}, ""
	case len(r.Probe) == 0:
		return nil, "wildcard pattern without a probe list: name real hosts in the row's probe: list (docs/rules.md)"
	}
	return r.Probe, ""
}

// methodFor chooses how a port range is probed; ok is false when it is not.
func methodFor(pr rules.PortRange) (func(uint16) Method, bool) {
	if int(pr.Hi)-int(pr.Lo) >= maxRangePorts {
		return nil, false
	}
	switch pr.Proto {
	case rules.TCP:
		return tcpMethod, true
	case rules.UDP:
		return func(uint16) Method { return MethodNTP }, pr.Lo == 123 && pr.Hi == 123
	}
	return nil, false
}

func tcpMethod(port uint16) Method {
	switch port {
	case 80:
		return MethodHTTP
	case 443, 5223, 8443:
		return MethodTLS
	}
	return MethodConnect
}

func skipReason(pr rules.PortRange) string {
	if int(pr.Hi)-int(pr.Lo) >= maxRangePorts {
		return fmt.Sprintf("port range wider than %d ports: not probed port by port", maxRangePorts)
	}
	return "no probe speaks this UDP port (only NTP on udp/123)"
}
