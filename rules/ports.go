package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePorts reads the port syntax of rule files: items separated by commas or spaces, each a port ("443")
// or an inclusive range ("1024-65535"), optionally prefixed by a transport ("udp/123"). A prefix sticks to
// the items after it, so "tcp/80,443 udp/123" is TCP 80 and 443 plus UDP 123. Items without any prefix are
// TCP, the transport of nearly every requirement.
func ParsePorts(s string) ([]PortRange, error) {
	return parsePorts(s, TCP)
}

func parsePorts(s string, proto Proto) ([]PortRange, error) {
	items := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(items) == 0 {
		return nil, fmt.Errorf("empty port list (expected ports such as \"80,443\" or \"udp/123\")")
	}
	out := make([]PortRange, 0, len(items))
	for _, item := range items {
		if name, rest, ok := strings.Cut(item, "/"); ok {
			p, err := parseProto(name)
			if err != nil {
				return nil, err
			}
			proto, item = p, rest
		}
		pr, err := parseRange(item)
		if err != nil {
			return nil, err
		}
		pr.Proto = proto
		out = append(out, pr)
	}
	return out, nil
}

func parseProto(name string) (Proto, error) {
	switch strings.ToLower(name) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	}
	return 0, fmt.Errorf("unknown transport %q (expected tcp or udp)", name)
}

func parseRange(item string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(item, "-")
	l, err := parsePort(lo)
	if err != nil {
		return PortRange{}, err
	}
	if !isRange {
		return PortRange{Lo: l, Hi: l}, nil
	}
	h, err := parsePort(hi)
	if err != nil {
		return PortRange{}, err
	}
	if h < l {
		return PortRange{}, fmt.Errorf("bad port range %q: %d is above %d", item, l, h)
	}
	return PortRange{Lo: l, Hi: h}, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("missing port number (expected a number from 1 to 65535)")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || n > 65535 {
		return 0, fmt.Errorf("bad port %q (expected a number from 1 to 65535)", s)
	}
	return uint16(n), nil
}
