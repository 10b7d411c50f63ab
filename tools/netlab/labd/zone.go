package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// A zone is the lab's whole DNS: every name the scenarios ask for, with its records and the failures it
// must produce. It is read once at start and never changed, so the DNS goroutines share it without locks.
type zone struct {
	records map[string][]record // by canonical name (lower case, no trailing dot)
	actions map[actionKey]action
}

type record struct {
	typ    dnsmessage.Type
	addr   netip.Addr // A, AAAA
	target string     // CNAME, canonical
}

// actionKey selects a forced outcome; typ 0 means every query type.
type actionKey struct {
	name string
	typ  dnsmessage.Type
}

// action is a forced outcome: an error rcode, or no answer at all.
type action struct {
	rcode dnsmessage.RCode
	drop  bool
}

// canonical makes zone keys and questions comparable: DNS names are case-insensitive and the trailing dot
// is only notation.
func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

var qtypes = map[string]dnsmessage.Type{
	"A": dnsmessage.TypeA, "AAAA": dnsmessage.TypeAAAA, "CNAME": dnsmessage.TypeCNAME,
	"MX": dnsmessage.TypeMX, "TXT": dnsmessage.TypeTXT, "HTTPS": 65, "*": 0,
}

var rcodes = map[string]dnsmessage.RCode{
	"NOERROR": dnsmessage.RCodeSuccess, "NXDOMAIN": dnsmessage.RCodeNameError,
	"SERVFAIL": dnsmessage.RCodeServerFailure, "REFUSED": dnsmessage.RCodeRefused,
	"FORMERR": dnsmessage.RCodeFormatError, "NOTIMP": dnsmessage.RCodeNotImplemented,
}

// parseZone reads the lab's zone format, one entry a line ('#' starts a comment):
//
//	NAME A     198.18.1.10
//	NAME AAAA  2001:2:0:1::10
//	NAME CNAME TARGET
//	NAME RCODE NXDOMAIN|SERVFAIL|REFUSED [QTYPE]   (QTYPE omitted or * = every type)
//	NAME DROP  [QTYPE]                              (no answer at all)
func parseZone(r io.Reader) (*zone, error) {
	z := &zone{records: map[string][]record{}, actions: map[actionKey]action{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if err := z.add(f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read zone: %w", err)
	}
	return z, nil
}

// add stores one zone line, already split into fields.
func (z *zone) add(f []string) error {
	if len(f) < 2 {
		return fmt.Errorf("want NAME TYPE [VALUE], got %q", strings.Join(f, " "))
	}
	name, kind := canonical(f[0]), strings.ToUpper(f[1])
	if name == "" {
		return fmt.Errorf("empty name")
	}
	switch kind {
	case "A", "AAAA":
		if len(f) != 3 {
			return fmt.Errorf("%s wants one address", kind)
		}
		a, err := netip.ParseAddr(f[2])
		if err != nil || a.Is4() != (kind == "A") || a.Zone() != "" {
			return fmt.Errorf("bad %s address %q", kind, f[2])
		}
		z.records[name] = append(z.records[name], record{typ: qtypes[kind], addr: a})
	case "CNAME":
		if len(f) != 3 || canonical(f[2]) == "" {
			return fmt.Errorf("CNAME wants one target")
		}
		z.records[name] = append(z.records[name], record{typ: dnsmessage.TypeCNAME, target: canonical(f[2])})
	case "RCODE", "DROP":
		return z.addAction(name, kind, f[2:])
	default:
		return fmt.Errorf("unknown type %q", f[1])
	}
	return nil
}

// addAction stores a forced failure for a name, for one query type or all of them.
func (z *zone) addAction(name, kind string, rest []string) error {
	var act action
	if kind == "RCODE" {
		if len(rest) == 0 {
			return fmt.Errorf("RCODE wants a code")
		}
		rc, ok := rcodes[strings.ToUpper(rest[0])]
		if !ok {
			return fmt.Errorf("unknown rcode %q", rest[0])
		}
		act.rcode, rest = rc, rest[1:]
	} else {
		act.drop = true
	}
	if len(rest) > 1 {
		return fmt.Errorf("%s takes at most one query type", kind)
	}
	var typ dnsmessage.Type
	if len(rest) == 1 {
		t, ok := qtypes[strings.ToUpper(rest[0])]
		if !ok {
			return fmt.Errorf("unknown query type %q", rest[0])
		}
		typ = t
	}
	z.actions[actionKey{name, typ}] = act
	return nil
}

// maxChain bounds CNAME chasing so that a loop in the zone cannot hang the server.
const maxChain = 8

// answer is what the zone says about one question.
type answer struct {
	drop    bool
	rcode   dnsmessage.RCode
	records []record
	owners  []string // owner name of each record, canonical
}

// lookup answers a question: forced outcomes first (per type, then for every type), then the records,
// following CNAMEs inside the zone. A name the zone does not know is NXDOMAIN: the lab's server is
// authoritative for everything.
func (z *zone) lookup(name string, typ dnsmessage.Type) answer {
	name = canonical(name)
	if act, ok := z.actions[actionKey{name, typ}]; ok {
		return answer{drop: act.drop, rcode: act.rcode}
	}
	if act, ok := z.actions[actionKey{name, 0}]; ok {
		return answer{drop: act.drop, rcode: act.rcode}
	}
	var ans answer
	if _, known := z.records[name]; !known {
		ans.rcode = dnsmessage.RCodeNameError
		return ans
	}
	for hop := 0; hop < maxChain; hop++ {
		next := ""
		for _, rec := range z.records[name] {
			if rec.typ == typ || (rec.typ == dnsmessage.TypeCNAME && typ != dnsmessage.TypeCNAME) {
				ans.records = append(ans.records, rec)
				ans.owners = append(ans.owners, name)
			}
			if rec.typ == dnsmessage.TypeCNAME && typ != dnsmessage.TypeCNAME {
				next = rec.target
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	return ans
}
