package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestPcapRecordsAgreeWithPcapgo reads files of several megabytes, with frames of every size up to the frame cap
// so that records straddle every refill of the buffer, through short reads, and compares each frame with
// pcapgo's.
func TestPcapRecordsAgreeWithPcapgo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []rec
	for i := 0; i < 4000; i++ {
		size := rng.IntN(3000)
		if i%500 == 7 {
			size = maxFrameLen - rng.IntN(100000) // longer than a buffer's worth of small frames
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		recs = append(recs, rec{sec: uint32(1e9 + i), usec: rng.Uint32N(1e6), data: data})
	}
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		magic uint32
	}{
		{"little-endian microseconds", binary.LittleEndian, 0xa1b2c3d4},
		{"big-endian microseconds", binary.BigEndian, 0xa1b2c3d4},
		{"little-endian nanoseconds", binary.LittleEndian, 0xa1b23c4d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := pcapBytes(tc.order, tc.magic, 400000, layers.LinkTypeEthernet, recs...)
			under := iotest.HalfReader(bytes.NewReader(file))
			ours, err := newPcapRecords(bufio.NewReaderSize(under, bufferSize), under, bufferSize)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := pcapgo.NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; ; i++ {
				want, wantCI, wantErr := ref.ReadPacketData()
				got, gotCI, gotErr := ours.ZeroCopyReadPacketData()
				if errors.Is(wantErr, io.EOF) && errors.Is(gotErr, io.EOF) {
					if i != len(recs) {
						t.Fatalf("%d frames, want %d", i, len(recs))
					}
					return
				}
				if wantErr != nil || gotErr != nil {
					t.Fatalf("frame %d: error %v, pcapgo %v", i+1, gotErr, wantErr)
				}
				if !bytes.Equal(got, want) || !gotCI.Timestamp.Equal(wantCI.Timestamp) ||
					gotCI.CaptureLength != wantCI.CaptureLength || gotCI.Length != wantCI.Length {
					t.Fatalf("frame %d: %d bytes at %v, pcapgo %d bytes at %v", i+1, len(got), gotCI.Timestamp,
						len(want), wantCI.Timestamp)
				}
			}
		})
	}
}

// TestRetainedFramesStayValid holds the chunk of every frame of a file several chunks long and checks at the
// end that no frame's bytes were overwritten; chunks released along the way are reused.
func TestRetainedFramesStayValid(t *testing.T) {
	var recs []rec
	for i := 0; i < 10000; i++ {
		recs = append(recs, rec{sec: uint32(i), data: bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 500+i%700)})
	}
	path := writeTemp(t, "retain.pcap", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet, recs...))
	for _, holdAll := range []bool{true, false} {
		r, err := Open([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		r.Retain()
		var frames []Frame
		chunks := map[*Chunk]bool{}
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if f.Chunk == nil {
				t.Fatalf("frame %d has no chunk", f.Number)
			}
			chunks[f.Chunk] = true
			if holdAll {
				f.Chunk.Retain()
				frames = append(frames, f)
			}
		}
		for i, f := range frames {
			if !bytes.Equal(f.Data, recs[i].data) {
				t.Fatalf("frame %d was overwritten while its chunk was held", i+1)
			}
			f.Chunk.Release()
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		// The file is about 12 MB: ten chunks or more. Held, each is a new one; released, the reader and its
		// read-ahead cycle through a few: the reader's, those queued, the one being filled, and one more the
		// read-ahead may take between the reader's taking the next and releasing its own.
		if holdAll && len(chunks) < 10 {
			t.Fatalf("%d chunks for about 12 MB of frames held: want ten or more", len(chunks))
		}
		if !holdAll && len(chunks) > readAheadDepth+3 {
			t.Errorf("%d chunks used with none held: released chunks are not reused", len(chunks))
		}
	}
}

// TestCloseStopsReadAhead closes a reader whose read-ahead goroutine is still filling chunks: no race (go test
// -race), no goroutine left blocked on a full queue, and Next answers that the reader is closed.
func TestCloseStopsReadAhead(t *testing.T) {
	var recs []rec
	for i := 0; i < 20000; i++ {
		recs = append(recs, rec{sec: uint32(i), data: make([]byte, 1000)})
	}
	path := writeTemp(t, "ahead.pcap", pcapBytes(binary.LittleEndian, 0xa1b2c3d4, 65535, layers.LinkTypeEthernet, recs...))
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		r, err := Open([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 3; j++ {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err == nil {
			t.Fatal("Next after Close gave a frame")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left behind after Close", n-before)
	}
}
