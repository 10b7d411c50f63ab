package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// maxDNSResponse is the largest UDP answer read; longer ones are cut by the kernel and fail to parse.
const maxDNSResponse = 4096

// DNSClient asks one DNS server over UDP for A then AAAA records (--dns SERVER), so a probe can test a
// resolver other than the system's.
type DNSClient struct {
	Server  netip.AddrPort
	Timeout time.Duration // per query; 0 means 2 s
}

// ErrNoAddress is a name that exists but has neither an A nor an AAAA record.
var ErrNoAddress = errors.New("no A or AAAA record")

// RcodeError is a DNS answer with a failing response code (NXDOMAIN, SERVFAIL, REFUSED ...).
type RcodeError struct{ Rcode dnsmessage.RCode }

func (e *RcodeError) Error() string { return "dns " + rcodeName(e.Rcode) }

// rcodeName spells a response code as dig and the report's rcode field do.
func rcodeName(r dnsmessage.RCode) string {
	switch r {
	case dnsmessage.RCodeSuccess:
		return "NOERROR"
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNameError:
		return "NXDOMAIN"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// Lookup asks for A and AAAA; IPv4 addresses come first. An error of the A query wins only when the AAAA
// query found nothing either.
func (c *DNSClient) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	v4, err4 := c.query(ctx, host, dnsmessage.TypeA)
	v6, err6 := c.query(ctx, host, dnsmessage.TypeAAAA)
	out := append(v4, v6...)
	if len(out) > 0 {
		return out, nil
	}
	if err4 != nil {
		return nil, err4
	}
	if err6 != nil {
		return nil, err6
	}
	return nil, ErrNoAddress
}

// query sends one question and reads until the matching answer or the timeout.
func (c *DNSClient) query(ctx context.Context, host string, qtype dnsmessage.Type) ([]netip.Addr, error) {
	msg, id, err := buildQuery(host, qtype)
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", c.Server.String())
	if err != nil {
		return nil, fmt.Errorf("dns %s: %w", c.Server, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Write(msg); err != nil {
		return nil, fmt.Errorf("dns %s: %w", c.Server, err)
	}
	buf := make([]byte, maxDNSResponse)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("dns %s: %w", c.Server, err)
		}
		addrs, match, err := parseAnswer(buf[:n], id, host, qtype)
		if !match {
			continue // a stray or spoofed datagram: keep waiting for ours
		}
		return addrs, err
	}
}

// buildQuery makes a recursive query with a random id.
func buildQuery(host string, qtype dnsmessage.Type) ([]byte, uint16, error) {
	name, err := dnsmessage.NewName(strings.TrimSuffix(host, ".") + ".")
	if err != nil {
		return nil, 0, fmt.Errorf("dns name %q: %w", host, err)
	}
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, 0, err
	}
	if err := b.Question(dnsmessage.Question{Name: name, Type: qtype, Class: dnsmessage.ClassINET}); err != nil {
		return nil, 0, err
	}
	msg, err := b.Finish()
	return msg, id, err
}

// parseAnswer reads a response; match is false when it is not the answer to this query (other id or
// question). The addresses are every A or AAAA record of the asked type in the answer section: a CNAME
// chain's final addresses come with it.
func parseAnswer(msg []byte, id uint16, host string, qtype dnsmessage.Type) (addrs []netip.Addr, match bool, err error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.ID != id || !h.Response {
		return nil, false, nil
	}
	q, err := p.Question()
	if err != nil || q.Type != qtype || !strings.EqualFold(strings.TrimSuffix(q.Name.String(), "."), strings.TrimSuffix(host, ".")) {
		return nil, false, nil
	}
	if h.RCode != dnsmessage.RCodeSuccess {
		return nil, true, &RcodeError{Rcode: h.RCode}
	}
	if h.Truncated {
		return nil, true, errors.New("dns answer truncated (TC): too many records for UDP")
	}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, true, fmt.Errorf("dns answer: %w", err)
	}
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return addrs, true, nil
		}
		if err != nil {
			return nil, true, fmt.Errorf("dns answer: %w", err)
		}
		switch {
		case rh.Type == dnsmessage.TypeA && qtype == dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return nil, true, fmt.Errorf("dns answer: %w", err)
			}
			addrs = append(addrs, netip.AddrFrom4(r.A))
		case rh.Type == dnsmessage.TypeAAAA && qtype == dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return nil, true, fmt.Errorf("dns answer: %w", err)
			}
			addrs = append(addrs, netip.AddrFrom16(r.AAAA))
		default:
			if err := p.SkipAnswer(); err != nil {
				return nil, true, fmt.Errorf("dns answer: %w", err)
			}
		}
	}
}
