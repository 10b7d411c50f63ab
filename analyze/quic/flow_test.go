package quic

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/intunecap/intunecap/analyze/tlshello"
)

var (
	testDCID = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	testSCID = []byte{9, 9, 9, 9}
	srvCID   = []byte{7, 7, 7, 7, 7, 7, 7, 7}
)

// initial seals a client Initial of v1 carrying frames, padded to a 1200-byte datagram.
func initial(t testing.TB, pn uint64, frames ...[]byte) []byte {
	t.Helper()
	return seal(t, packet{version: Version1, dcid: testDCID, scid: testSCID, pn: pn, frames: slices.Concat(frames...), padTo: 1150})
}

// sniOf runs the completed hello through tlshello.
func sniOf(t testing.TB, f *Flow) string {
	t.Helper()
	rec, err := f.TLSRecord()
	if err != nil {
		t.Fatal(err)
	}
	var h tlshello.Hello
	if st, _, err := tlshello.Parse(rec, &h); st != tlshello.Complete {
		t.Fatalf("tlshello: %v %v", st, err)
	}
	return h.SNI
}

// TestTestHello checks the tests' ClientHello builder.
func TestTestHello(t *testing.T) {
	for _, size := range []int{0, 3000} {
		var f Flow
		hello := testHello("a.example", size)
		if size > 0 && len(hello) != size {
			t.Errorf("hello of %d bytes, want %d", len(hello), size)
		}
		f.Client(initial(t, 0, cryptoFrame(0, hello[:min(len(hello), 1000)]), cryptoFrame(1000, hello[min(len(hello), 1000):])))
		if f.Status() == Complete && sniOf(t, &f) != "a.example" {
			t.Error("wrong sni")
		}
	}
}

// TestMultipleInitials spreads a 3 KB hello over three Initials in every order, as a post-quantum ClientHello
// is, and as packet reordering or loss-and-retransmission deliver them.
func TestMultipleInitials(t *testing.T) {
	hello := testHello("pq.example", 3000)
	pkts := [][]byte{
		initial(t, 0, cryptoFrame(0, hello[:1100])),
		initial(t, 1, cryptoFrame(1100, hello[1100:2200])),
		initial(t, 2, cryptoFrame(2200, hello[2200:])),
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}, {0, 0, 2, 1}} {
		var f Flow
		for i, n := range order {
			st := f.Client(pkts[n])
			if last := i == len(order)-1; (st == Complete) != last {
				t.Fatalf("order %v: status %v after packet %d (%v)", order, st, i, f.Err())
			}
		}
		if f.Initials() != len(order) || f.Conflict() || !bytes.Equal(f.ClientHello(), hello) || sniOf(t, &f) != "pq.example" {
			t.Errorf("order %v: initials %d conflict %v", order, f.Initials(), f.Conflict())
		}
	}
}

// TestShuffledFrames sends the hello as many small CRYPTO frames out of order between PING and PADDING frames
// in one Initial, the way Chromium does, with an ACK frame in front.
func TestShuffledFrames(t *testing.T) {
	hello := testHello("chrome.example", 0)
	var frames [][]byte
	frames = append(frames, []byte{frameACK, 0, 0, 1, 0, 0, 0}) // largest 0, delay 0, 1 more range, first 0, gap 0, len 0
	for off := len(hello) - len(hello)%7; off >= 0; off -= 7 {
		frames = append(frames, cryptoFrame(off, hello[off:min(off+7, len(hello))]), []byte{framePing, framePadding, framePadding})
	}
	var f Flow
	if st := f.Client(initial(t, 0, frames...)); st != Complete || sniOf(t, &f) != "chrome.example" {
		t.Fatalf("status %v %v", st, f.Err())
	}
}

// TestOverlap resends ranges: identical bytes are no conflict; different bytes are, and the first copy stays.
func TestOverlap(t *testing.T) {
	hello := testHello("overlap.example", 0)
	forged := bytes.Clone(hello[20:60])
	forged[5] ^= 0xff
	var f Flow
	f.Client(initial(t, 0, cryptoFrame(10, hello[10:50]), cryptoFrame(0, hello[:30]), cryptoFrame(20, forged)))
	if !f.Conflict() {
		t.Error("no conflict reported")
	}
	f.Client(initial(t, 1, cryptoFrame(40, hello[40:])))
	if f.Status() != Complete || !bytes.Equal(f.ClientHello(), hello) {
		t.Errorf("status %v, hello kept %v", f.Status(), bytes.Equal(f.ClientHello(), hello))
	}

	f.Reset()
	f.Client(initial(t, 0, cryptoFrame(0, hello[:50]), cryptoFrame(10, hello[10:]), cryptoFrame(0, hello)))
	if f.Status() != Complete || f.Conflict() {
		t.Errorf("identical overlap: status %v conflict %v", f.Status(), f.Conflict())
	}
}

// TestCoalesced puts an Initial, a 0-RTT packet and zero padding in one datagram; and two Initials in another.
func TestCoalesced(t *testing.T) {
	hello := testHello("coalesced.example", 0)
	zeroRTT := seal(t, packet{version: Version1, typ: typeZeroRTT, dcid: testDCID, scid: testSCID, pn: 0, frames: []byte{framePing}, padTo: 20})
	var f Flow
	d := slices.Concat(initial(t, 0, cryptoFrame(0, hello)), zeroRTT, make([]byte, 30))
	if st := f.Client(d); st != Complete {
		t.Fatalf("status %v %v", st, f.Err())
	}
	f.Reset()
	p1 := seal(t, packet{version: Version1, dcid: testDCID, scid: testSCID, pn: 0, frames: cryptoFrame(0, hello[:40])})
	p2 := seal(t, packet{version: Version1, dcid: testDCID, scid: testSCID, pn: 1, frames: cryptoFrame(40, hello[40:])})
	if st := f.Client(slices.Concat(p1, p2)); st != Complete || f.Initials() != 2 {
		t.Fatalf("two coalesced Initials: status %v initials %d %v", st, f.Initials(), f.Err())
	}
}

// TestClientErrors has one case per way the client side can fail or stop.
func TestClientErrors(t *testing.T) {
	hello := testHello("err.example", 0)
	good := initial(t, 0, cryptoFrame(0, hello))
	withByte := func(i int, b byte) []byte { d := bytes.Clone(good); d[i] = b; return d }
	v1 := func(pn uint64, frames ...[]byte) []byte { return initial(t, pn, frames...) }
	many := func() [][]byte {
		var d [][]byte
		for i := range MaxInitials {
			d = append(d, v1(uint64(i), cryptoFrame(10, hello[10:20])))
		}
		return d
	}
	var spans []byte
	for off := 0; off <= 2*maxSpans; off += 2 {
		spans = append(spans, cryptoFrame(off+2000, []byte{1})...)
	}
	tests := []struct {
		name      string
		datagrams [][]byte
		want      Status
		err       string
	}{
		{"short header only", [][]byte{{0x40, 1, 2, 3}}, Pending, ""},
		{"empty datagram", [][]byte{{}}, Pending, ""},
		{"truncated long header", [][]byte{{0xc0, 0, 0, 0, 1}}, NotQUIC, "runs past the end"},
		{"dcid runs past the end", [][]byte{{0xc0, 0, 0, 0, 1, 30, 1, 2}}, NotQUIC, "connection ids"},
		{"dcid longer than 20", [][]byte{append([]byte{0xc0, 0, 0, 0, 1, 21}, make([]byte, 40)...)}, NotQUIC, "more than 20"},
		{"fixed bit clear", [][]byte{withByte(0, good[0]&^fixedBit)}, NotQUIC, "fixed bit"},
		{"length past the datagram", [][]byte{good[:600]}, NotQUIC, "long header length"},
		{"unknown version", [][]byte{withByte(4, 0x7f)}, UnsupportedVersion, ""},
		{"too short to sample", [][]byte{slices.Concat([]byte{0xc0, 0, 0, 0, 1, 8}, testDCID, []byte{0, 0, 5, 1, 2, 3, 4, 5})}, Pending, "too short for its header protection sample"},
		{"authentication fails", [][]byte{withByte(len(good)-1, good[len(good)-1]^1)}, Pending, "does not decrypt"},
		{"truncated crypto frame", [][]byte{seal(t, packet{version: Version1, dcid: testDCID, frames: []byte{frameCrypto, 0, 0x50, 0}})}, Malformed, "frame type 0x6"},
		{"truncated ack frame", [][]byte{seal(t, packet{version: Version1, dcid: testDCID, frames: []byte{frameACK, 0, 0, 0x7f}})}, Malformed, "frame type 0x2"},
		{"not a client hello", [][]byte{v1(0, cryptoFrame(0, []byte{2, 0, 0, 4, 0, 0, 0, 0}))}, Malformed, "does not start with a client_hello"},
		{"crypto past the cap", [][]byte{v1(0, cryptoFrame(MaxCrypto-3, hello[:10]))}, TooLarge, "past 65536"},
		{"hello longer than the cap", [][]byte{v1(0, cryptoFrame(0, []byte{1, 1, 0, 0}))}, TooLarge, "past 65536"},
		{"too many pieces", [][]byte{v1(0, spans)}, TooLarge, "separate pieces"},
		{"initials cap", many(), Incomplete, ""},
		{"packet larger than MaxPacket", [][]byte{seal(t, packet{version: Version1, dcid: testDCID, frames: cryptoFrame(0, hello), padTo: MaxPacket})}, Pending, "more than 16384"},
		{"unknown frame stops the walk", [][]byte{v1(0, cryptoFrame(0, hello), []byte{0x08, 0xff, 0xff})}, Complete, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Flow
			for _, d := range tt.datagrams {
				f.Client(d)
			}
			if f.Status() != tt.want {
				t.Errorf("status %v, want %v (err %v)", f.Status(), tt.want, f.Err())
			}
			if got := f.Err(); (tt.err == "") != (got == nil) || got != nil && !strings.Contains(got.Error(), tt.err) {
				t.Errorf("err %v, want one containing %q", got, tt.err)
			}
			if tt.want != Complete && f.ClientHello() != nil {
				t.Error("hello returned before complete")
			}
			if _, err := f.TLSRecord(); (err == nil) != (tt.want == Complete) {
				t.Errorf("record: %v", err)
			}
		})
	}
}

// TestRecordCap: a hello tlshello cannot take is complete here, but TLSRecord refuses it.
func TestRecordCap(t *testing.T) {
	hello := testHello("big.example", tlshello.MaxHello+1)
	var f Flow
	f.Client(initial(t, 0, cryptoFrame(0, hello[:9000])))
	f.Client(initial(t, 1, cryptoFrame(9000, hello[9000:])))
	if f.Status() != Complete {
		t.Fatalf("status %v %v", f.Status(), f.Err())
	}
	if _, err := f.TLSRecord(); err == nil || !strings.Contains(err.Error(), "more than 16384") {
		t.Errorf("record: %v", err)
	}
}

// TestServer gives one client Initial and then server datagrams, one case per kind of answer.
func TestServer(t *testing.T) {
	hello := testHello("srv.example", 0)
	client := initial(t, 0, cryptoFrame(0, hello))
	srvInitial := func(v Version, frames []byte) []byte {
		return seal(t, packet{version: v, dcid: testSCID, scid: srvCID, pn: 0, frames: frames, server: true, keyDCID: testDCID})
	}
	handshake := seal(t, packet{version: Version1, typ: typeHandshake, dcid: testSCID, scid: srvCID, frames: []byte{framePing}, keyDCID: testDCID})
	vn := slices.Concat([]byte{0x80, 0, 0, 0, 0, byte(len(testSCID))}, testSCID, []byte{byte(len(testDCID))}, testDCID,
		[]byte{0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf})
	retry := slices.Concat([]byte{0xf0, 0, 0, 0, 1, byte(len(testSCID))}, testSCID, []byte{byte(len(srvCID))}, srvCID, []byte("token"), make([]byte, 16))
	closeFrame := []byte{frameConnectionClose, 0x41, 0x28, 0x06, 0}
	tests := []struct {
		name      string
		datagrams [][]byte
		want      Reply
	}{
		{"server initial", [][]byte{srvInitial(Version1, cryptoFrame(0, []byte{2, 0, 0, 0}))}, Reply{Initial: true}},
		{"initial and handshake coalesced", [][]byte{slices.Concat(srvInitial(Version1, []byte{framePing}), handshake)}, Reply{Initial: true, Handshake: true}},
		{"connection close", [][]byte{srvInitial(Version1, closeFrame)}, Reply{Initial: true, Closed: true, Close: Close{Code: 0x128, FrameType: 6}}},
		{"compatible negotiation to v2", [][]byte{srvInitial(Version2, []byte{framePing})}, Reply{Initial: true}},
		{"version negotiation", [][]byte{vn}, Reply{VersionNegotiation: true, Offered: [MaxOffered]Version{Version1, Version2}, NOffered: 2}},
		{"retry", [][]byte{retry}, Reply{Retry: true}},
		{"short header", [][]byte{{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}}, Reply{}},
		{"initial to another connection id", [][]byte{seal(t, packet{version: Version1, dcid: srvCID, frames: []byte{framePing}, server: true, keyDCID: testDCID})}, Reply{}},
		{"initial with the client keys", [][]byte{seal(t, packet{version: Version1, dcid: testSCID, frames: []byte{framePing}, keyDCID: testDCID})}, Reply{}},
		{"version negotiation not echoing the dcid", [][]byte{slices.Concat(vn[:6+len(testSCID)], []byte{1, 0}, vn[6+len(testSCID)+1+len(testDCID):])}, Reply{}},
		{"version negotiation with a ragged list", [][]byte{vn[:len(vn)-1]}, Reply{}},
		{"garbage long header", [][]byte{{0xc0, 0, 0, 0, 1, 30}}, Reply{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Flow
			f.Server(tt.datagrams[0]) // before any client Initial: ignored
			if f.Reply() != (Reply{}) {
				t.Fatal("server datagram counted before the client's first Initial")
			}
			f.Client(client)
			for _, d := range tt.datagrams {
				f.Server(d)
			}
			if f.Reply() != tt.want {
				t.Errorf("reply %+v, want %+v", f.Reply(), tt.want)
			}
		})
	}
}

// TestRetry: after a Retry the client's next Initial uses keys from the Retry's connection ID, and its CRYPTO
// stream starts over: what came before does not count, not even as a conflict.
func TestRetry(t *testing.T) {
	hello := testHello("retry.example", 0)
	before := bytes.Clone(hello[:30])
	before[20] ^= 0xff
	var f Flow
	f.Client(seal(t, packet{version: Version1, dcid: testDCID, scid: testSCID, frames: cryptoFrame(0, before), padTo: 1100}))
	retry := slices.Concat([]byte{0xf0, 0, 0, 0, 1, byte(len(testSCID))}, testSCID, []byte{byte(len(srvCID))}, srvCID, []byte("token"), make([]byte, 16))
	f.Server(retry)
	st := f.Client(seal(t, packet{version: Version1, dcid: srvCID, scid: testSCID, token: []byte("token"), pn: 1, frames: cryptoFrame(0, hello), padTo: 1100}))
	if st != Complete || !f.Reply().Retry || f.Conflict() || sniOf(t, &f) != "retry.example" {
		t.Errorf("status %v reply %+v err %v", st, f.Reply(), f.Err())
	}
	// The server answers with keys from the new connection ID.
	f.Server(seal(t, packet{version: Version1, dcid: testSCID, scid: srvCID, frames: []byte{framePing}, server: true, keyDCID: srvCID}))
	if !f.Reply().Initial {
		t.Error("server Initial after Retry not recognised")
	}
}

// TestLaterDCID: once the server answered, the client addresses its Initials to the server's connection ID,
// still with the keys of its first one.
func TestLaterDCID(t *testing.T) {
	hello := testHello("later.example", 2000)
	var f Flow
	f.Client(initial(t, 0, cryptoFrame(0, hello[:1000])))
	f.Client(seal(t, packet{version: Version1, dcid: srvCID, scid: testSCID, pn: 1, frames: cryptoFrame(1000, hello[1000:]), keyDCID: testDCID}))
	if f.Status() != Complete || f.Initials() != 2 {
		t.Errorf("status %v initials %d err %v", f.Status(), f.Initials(), f.Err())
	}
}

// TestVersionNegotiationThenV1: a client that tries an unknown version first, gets a Version Negotiation and
// retries in v1 on the same ports.
func TestVersionNegotiationThenV1(t *testing.T) {
	var f Flow
	odd := seal(t, packet{version: Version1, dcid: testDCID, scid: testSCID, frames: []byte{framePing}, padTo: 1100})
	odd[1], odd[2], odd[3], odd[4] = 0x1a, 0x2a, 0x3a, 0x4a
	if st := f.Client(odd); st != UnsupportedVersion || f.Version() != 0x1a2a3a4a || f.Version().String() != "0x1a2a3a4a" {
		t.Fatalf("status %v version %v", st, f.Version())
	}
	f.Server(slices.Concat([]byte{0x80, 0, 0, 0, 0, byte(len(testSCID))}, testSCID, []byte{byte(len(testDCID))}, testDCID, []byte{0, 0, 0, 1}))
	if r := f.Reply(); !r.VersionNegotiation || r.NOffered != 1 || r.Offered[0] != Version1 {
		t.Fatalf("reply %+v", r)
	}
	newDCID := []byte{5, 5, 5, 5, 5, 5, 5, 5}
	st := f.Client(seal(t, packet{version: Version1, dcid: newDCID, scid: testSCID, frames: cryptoFrame(0, testHello("vn.example", 0)), padTo: 1100}))
	if st != Complete || f.Version() != Version1 || sniOf(t, &f) != "vn.example" {
		t.Errorf("status %v version %v err %v", st, f.Version(), f.Err())
	}
}

// TestReset reuses a flow for another connection.
func TestReset(t *testing.T) {
	var f Flow
	f.Client(initial(t, 0, cryptoFrame(0, testHello("one.example", 0))))
	f.Reset()
	if f.Status() != Pending || f.Version() != 0 || f.Reply() != (Reply{}) || f.Initials() != 0 {
		t.Fatal("state survived Reset")
	}
	f.Client(initial(t, 0, cryptoFrame(0, testHello("two.example", 0))))
	if sniOf(t, &f) != "two.example" {
		t.Error("second flow")
	}
}

// TestFastPathAllocs: the datagrams that must cost nothing allocate nothing.
func TestFastPathAllocs(t *testing.T) {
	var f Flow
	f.Client(initial(t, 0, cryptoFrame(0, testHello("done.example", 0))))
	short := make([]byte, 1200)
	short[0] = 0x41
	long := initial(t, 1, []byte{framePing})
	if n := testing.AllocsPerRun(100, func() {
		f.Client(short)
		f.Client(long) // complete: returns at once
		f.Server(short)
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}
