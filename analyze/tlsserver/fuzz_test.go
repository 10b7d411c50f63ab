package tlsserver

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// FuzzServerFlight feeds arbitrary bytes both ways (as a prefix through Parse, in segments through Feed):
// no panic, the same decision both ways, need always ahead and within MaxFlight, chain slices within caps.
func FuzzServerFlight(f *testing.F) {
	f.Add(cat(record(22, serverHello(0x0303, 0xc02f, alpnExt("h2"))), record(22, certificateMsg(leafDER, caDER)), record(22, helloDone)), 3)
	f.Add(records(22, cat(serverHello(0x0303, 0xc02f), certificateMsg(leafDER), helloDone), 7), 1)
	f.Add(record(22, serverHello(0x0303, 0x1301, versionsExt(0x0304))), 100)
	f.Add(record(21, []byte{2, 40}), 2)
	f.Add(cat(record(22, serverHello(0x0303, 0xc030)), record(20, []byte{1})), 5)
	cert := testCert(f, "enrollment.manage.microsoft.com")
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		f.Add(goFlight(f, cert, &tls.Config{MaxVersion: v}, &tls.Config{MaxVersion: v, InsecureSkipVerify: true}), 1460)
	}
	f.Fuzz(func(t *testing.T, data []byte, seg int) {
		if seg <= 0 || seg > 4096 {
			seg = 1 + len(data)%97
		}
		var p Flight
		n, st := 0, NeedMore
		for {
			var need int
			st, need, _ = Parse(data[:n], &p)
			if st != NeedMore {
				break
			}
			if need <= n || need > MaxFlight {
				t.Fatalf("need %d at %d", need, n)
			}
			if n == len(data) {
				break
			}
			n = min(need, len(data))
		}
		g, st2, _ := feedIn(data, seg)
		if st2 != st || g.ChainState != p.ChainState || len(g.Chain) != len(p.Chain) || g.Version != p.Version || g.Alert != p.Alert {
			t.Fatalf("parse %v %v %d, feed %v %v %d", st, p.ChainState, len(p.Chain), st2, g.ChainState, len(g.Chain))
		}
		for i := range g.Chain {
			if !bytes.Equal(g.Chain[i], p.Chain[i]) || len(g.Chain[i]) > MaxCert {
				t.Fatalf("chain[%d] differs", i)
			}
		}
		if len(g.Chain) > MaxCerts || cap(g.buf) > 2*MaxFlight {
			t.Fatalf("%d certs, buffer %d", len(g.Chain), cap(g.buf))
		}
		ClientAlert(data)
	})
}
