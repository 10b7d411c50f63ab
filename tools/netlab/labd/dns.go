package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// respond builds the reply to one DNS query. ok is false when the zone says to stay silent or the query
// cannot be answered at all (no header to echo); a query with a header but no usable question gets FORMERR.
func respond(z *zone, query []byte) (reply []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return build(h, nil, answer{rcode: dnsmessage.RCodeFormatError}), true
	}
	ans := z.lookup(q.Name.String(), q.Type)
	if ans.drop {
		return nil, false
	}
	return build(h, &q, ans), true
}

// build writes the reply message; it cannot fail on zone data, which parseZone has checked.
func build(qh dnsmessage.Header, q *dnsmessage.Question, ans answer) []byte {
	h := dnsmessage.Header{
		ID: qh.ID, Response: true, OpCode: qh.OpCode, Authoritative: true,
		RecursionDesired: qh.RecursionDesired, RecursionAvailable: true, RCode: ans.rcode,
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), h)
	b.EnableCompression()
	if q == nil {
		return mustFinish(b.Finish())
	}
	if err := b.StartQuestions(); err != nil {
		return nil
	}
	if err := b.Question(*q); err != nil {
		return nil
	}
	if err := b.StartAnswers(); err != nil {
		return nil
	}
	for i, rec := range ans.records {
		if err := addRecord(&b, ans.owners[i], q.Class, rec); err != nil {
			log.Printf("dns: answer %s: %v", ans.owners[i], err)
			return nil
		}
	}
	return mustFinish(b.Finish())
}

func mustFinish(msg []byte, err error) []byte {
	if err != nil {
		return nil
	}
	return msg
}

// answerTTL is short so that a device re-asks during a long live test.
const answerTTL = 60

func addRecord(b *dnsmessage.Builder, owner string, class dnsmessage.Class, rec record) error {
	name, err := dnsmessage.NewName(owner + ".")
	if err != nil {
		return err
	}
	rh := dnsmessage.ResourceHeader{Name: name, Class: class, TTL: answerTTL}
	switch rec.typ {
	case dnsmessage.TypeA:
		return b.AResource(rh, dnsmessage.AResource{A: rec.addr.As4()})
	case dnsmessage.TypeAAAA:
		return b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: rec.addr.As16()})
	case dnsmessage.TypeCNAME:
		target, err := dnsmessage.NewName(rec.target + ".")
		if err != nil {
			return err
		}
		return b.CNAMEResource(rh, dnsmessage.CNAMEResource{CNAME: target})
	}
	return fmt.Errorf("unsupported record type %v", rec.typ)
}

// serveDNSUDP answers queries on pc until it is closed. One goroutine owns the buffer.
func serveDNSUDP(pc net.PacketConn, z *zone) error {
	buf := make([]byte, 65535)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("dns udp read: %w", err)
		}
		if reply, ok := respond(z, buf[:n]); ok && reply != nil {
			if _, err := pc.WriteTo(reply, addr); err != nil {
				log.Printf("dns udp: reply to %s: %v", addr, err)
			}
		}
	}
}

// serveDNSTCP accepts connections on ln, each carrying any number of length-prefixed queries (RFC 7766),
// so that "dig +tcp +keepopen a b" shares one connection.
func serveDNSTCP(ln net.Listener, z *zone) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("dns tcp accept: %w", err)
		}
		go handleDNSConn(c, z)
	}
}

// dnsIdle is how long a DNS-over-TCP connection may sit idle; dig closes its side well before that.
const dnsIdle = 10 * time.Second

func handleDNSConn(c net.Conn, z *zone) {
	defer c.Close()
	var lenBuf [2]byte
	for {
		_ = c.SetReadDeadline(time.Now().Add(dnsIdle))
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		reply, ok := respond(z, msg)
		if !ok || reply == nil {
			continue
		}
		out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reply)), uint16(len(reply)))
		if _, err := c.Write(append(out, reply...)); err != nil {
			return
		}
	}
}
