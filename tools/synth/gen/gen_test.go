package gen

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/intunecap/intunecap/rules"
)

// TestLabelsAgreeWithTable checks the hand-written labels against the 2015 table as the rules package reads it,
// so that a wrong label shows here and not as a puzzling count in the engine's test.
func TestLabelsAgreeWithTable(t *testing.T) {
	table, err := rules.Load([]string{"intune-2015"})
	if err != nil {
		t.Fatal(err)
	}
	m := rules.NewMatcher(table)
	for _, kind := range nameTable() {
		for i := range kind {
			l := &kind[i]
			for _, port := range []uint16{80, 443} {
				_, v := m.Judge(l.name, rules.TCP, port)
				if want := judge(l, port, true, "allowed"); string(v) != want {
					t.Errorf("%s:%d: table says %s, label says %s", l.name, port, v, want)
				}
			}
		}
	}
}

func TestSameSeedSameFile(t *testing.T) {
	tests := []Config{
		{Size: 2_000_000, Seed: 7, IPv6Share: 0.3},
		{Size: 1_000_000, Seed: 7, Format: "pcapng", VLAN: true},
		{Seed: 7, SYNFlood: 5000},
	}
	for _, cfg := range tests {
		a, ea := generate(t, cfg)
		b, eb := generate(t, cfg)
		if sha256.Sum256(a) != sha256.Sum256(b) || ea.Packets != eb.Packets {
			t.Errorf("%+v: two runs differ", cfg)
		}
		cfg.Seed++
		if c, _ := generate(t, cfg); bytes.Equal(a, c) {
			t.Errorf("%+v: another seed gives the same file", cfg)
		}
	}
}

// TestFramesAreWellFormed decodes every frame with gopacket and checks lengths and checksums.
func TestFramesAreWellFormed(t *testing.T) {
	for _, cfg := range []Config{{Size: 3_000_000, Seed: 1, IPv6Share: 0.5, VLAN: true}, {Size: 1_000_000, Seed: 2, Format: "pcapng"}} {
		data, exp := generate(t, cfg)
		n := 0
		for frame := range frames(t, data, cfg.Format) {
			n++
			checkFrame(t, n, frame)
		}
		if uint64(n) != exp.Packets || int64(len(data)) != exp.Bytes {
			t.Errorf("%d frames in %d bytes, expected says %d in %d", n, len(data), exp.Packets, exp.Bytes)
		}
	}
}

func checkFrame(t *testing.T, n int, frame []byte) {
	t.Helper()
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("frame %d: %v", n, el.Error())
	}
	var sum uint64
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if fold(sumBytes(ip.Contents, 0)) != 0 {
			t.Fatalf("frame %d: bad ipv4 checksum", n)
		}
		sum = sumBytes(ip.Contents[12:20], 0)
	case *layers.IPv6:
		sum = sumBytes(ip.Contents[8:40], 0)
	default:
		t.Fatalf("frame %d: no ip layer", n)
	}
	tl := p.TransportLayer()
	l4 := append(append([]byte(nil), tl.LayerContents()...), tl.LayerPayload()...)
	proto := uint64(protoTCP)
	if _, ok := tl.(*layers.UDP); ok {
		proto = protoUDP
	}
	if fold(sumBytes(l4, sum+proto+uint64(len(l4)))) != 0 {
		t.Fatalf("frame %d: bad transport checksum", n)
	}
}

func generate(t *testing.T, cfg Config) ([]byte, *Expected) {
	t.Helper()
	var b bytes.Buffer
	exp, err := Generate(&b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), exp
}

// frames yields every frame of a pcap or pcapng file in memory.
func frames(t *testing.T, data []byte, format string) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		var next func() ([]byte, gopacket.CaptureInfo, error)
		if format == "pcapng" {
			r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
			if err != nil {
				t.Fatal(err)
			}
			next = r.ReadPacketData
		} else {
			r, err := pcapgo.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			next = r.ReadPacketData
		}
		for {
			d, _, err := next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !yield(d) {
				return
			}
		}
	}
}

func TestTLSHeaders(t *testing.T) {
	total := tlsSize(2*tlsRecord + 100)
	stream := make([]byte, total)
	for at := 0; at < total; at += 1460 {
		tlsHeaders(stream[at:min(at+1460, total)], at, total)
	}
	for at := 0; at < total; {
		if stream[at] != 0x17 || stream[at+1] != 3 {
			t.Fatalf("no record header at %d", at)
		}
		at += 5 + int(stream[at+3])<<8 + int(stream[at+4])
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.setDefaults(); err != nil || c.Size != 20_000_000 || c.Format != "pcap" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if err := (&Config{Format: "erf"}).setDefaults(); err == nil {
		t.Fatal("unknown format accepted")
	}
}

// TestWriteFile: the file WriteFile writes holds what Generate writes, and its counts are Generate's; a path
// that cannot be created is an error.
func TestWriteFile(t *testing.T) {
	cfg := Config{Size: 500_000, Seed: 3, Format: "pcapng"}
	want, wantExp := generate(t, cfg)
	path := filepath.Join(t.TempDir(), "w.pcapng")
	exp, err := WriteFile(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || !reflect.DeepEqual(exp, wantExp) {
		t.Errorf("WriteFile wrote %d bytes (%+v), Generate %d (%+v)", len(got), *exp, len(want), *wantExp)
	}
	if _, err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir.pcap"), cfg); err == nil {
		t.Error("WriteFile into a missing directory returned no error")
	}
}
