package live

import (
	"bytes"
	"testing"
	"time"

	"github.com/intunecap/intunecap/capture"
)

func TestLiveParseMethod(t *testing.T) {
	for _, m := range []Method{MethodAuto, MethodAFPacket, MethodPcap} {
		got, err := ParseMethod(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
	if _, err := ParseMethod("pfring"); err == nil {
		t.Error("ParseMethod(pfring) succeeded")
	}
}

func TestLiveMethodDefaults(t *testing.T) {
	tests := []struct {
		opts Options
		want Method
	}{
		{Options{Interface: "eth0"}, defaultMethod},
		{Options{Interface: "eth0", Method: MethodPcap}, MethodPcap},
		{Options{Interface: "eth0", Method: MethodAFPacket}, MethodAFPacket},
	}
	if hasLibpcap {
		tests = append(tests, struct {
			opts Options
			want Method
		}{Options{Interface: "any"}, MethodPcap})
	}
	for _, tc := range tests {
		if got := tc.opts.withDefaults().Method; got != tc.want {
			t.Errorf("%+v: method %v, want %v", tc.opts, got, tc.want)
		}
	}
}

// TestLiveBatch: frames are copied, never longer than the snapshot length, and cannot grow into each other.
func TestLiveBatch(t *testing.T) {
	b := NewBatch(3, 100)
	ts := time.Unix(1, 0)
	for i, n := range []int{60, 150, 1} {
		data := bytes.Repeat([]byte{byte(i + 1)}, n)
		if !b.Append(capture.Frame{Data: data, WireLen: n, Timestamp: ts}) {
			t.Fatalf("frame %d did not fit", i)
		}
		data[0] = 0xff // the batch holds a copy
	}
	if b.Append(capture.Frame{Data: []byte{9}}) {
		t.Error("a fourth frame fit in a batch of three")
	}
	for i, f := range b.Frames {
		if want := min([]int{60, 150, 1}[i], 100); len(f.Data) != want || cap(f.Data) != want {
			t.Errorf("frame %d: len %d cap %d, want %d", i, len(f.Data), cap(f.Data), want)
		}
		if !bytes.Equal(f.Data, bytes.Repeat([]byte{byte(i + 1)}, len(f.Data))) {
			t.Errorf("frame %d: bytes %x", i, f.Data)
		}
	}
	b.Reset()
	if len(b.Frames) != 0 || !b.Append(capture.Frame{Data: []byte{1}}) {
		t.Error("Reset left the batch full")
	}
}
