// Command replay sends the Ethernet frames of a capture out of a network interface at a steady packet rate,
// looping over the capture until it has sent a count, for scripts/live-bench.sh. It is a lab tool (Linux,
// root): it writes to an AF_PACKET socket with sendmmsg, a batch of frames a system call, and paces the
// batches against an absolute schedule, so the average rate is the one asked for even on a small machine
// where tcpreplay and trafgen's paced mode (one system call a packet) fall short of it.
//
//	replay -i veth0 -rate 500000 -count 1500000 testdata/pcaps/demo.pcapng
//
// It prints one line: "sent N packets in S s: R packets/s". -rate 0 sends as fast as it can.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/intunecap/intunecap/capture"
)

// maxRate is the highest rate replay takes, far above what any machine sends.
const maxRate = 100_000_000

// maxLoadBytes caps the frames replay holds in memory: it loops over what it loaded.
const maxLoadBytes = 256 << 20

func main() {
	err := run(os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintf(os.Stderr, "replay: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	iface := fs.String("i", "", "interface to send on")
	rate := fs.Int("rate", 0, "packets a second (0: as fast as possible)")
	count := fs.Int("count", 0, "packets to send, looping over the capture (0: the capture once)")
	batch := fs.Int("batch", 64, "frames a system call (1 to 1024)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iface == "" || fs.NArg() != 1 {
		return errors.New("usage: replay -i IFACE [-rate PPS] [-count N] [-batch N] CAPTURE")
	}
	if *rate < 0 || *rate > maxRate || *count < 0 || *batch < 1 || *batch > 1024 {
		return fmt.Errorf("-rate must be 0 to %d, -count >= 0, -batch 1 to 1024", maxRate)
	}
	frames, err := load(fs.Arg(0))
	if err != nil {
		return err
	}
	if *count == 0 {
		*count = len(frames)
	}
	s, err := openSender(*iface, frames, *batch)
	if err != nil {
		return err
	}
	defer s.close()
	start := time.Now()
	if err := send(s, schedule{start: start, rate: *rate}, *count, *batch); err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(out, "sent %d packets in %.3f s: %.0f packets/s\n", *count, elapsed.Seconds(),
		float64(*count)/elapsed.Seconds())
	return nil
}

// load reads the frames of an Ethernet capture, up to maxLoadBytes.
func load(path string) ([][]byte, error) {
	r, err := capture.Open([]string{path})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var frames [][]byte
	total := 0
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if f.LinkType != layers.LinkTypeEthernet {
			return nil, fmt.Errorf("%s: frame %d is %v, not Ethernet", path, f.Number, f.LinkType)
		}
		if len(f.Data) < 14 { // shorter than an Ethernet header: nothing a kernel would send
			continue
		}
		if total += len(f.Data); total > maxLoadBytes {
			return nil, fmt.Errorf("%s: over the %d-byte cap on the frames replay holds", path, maxLoadBytes)
		}
		frames = append(frames, append([]byte(nil), f.Data...))
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("%s: no frames", path)
	}
	return frames, nil
}

// schedule says when each packet is due: packet i at start + i/rate. A rate of 0 has every packet due at once.
type schedule struct {
	start time.Time
	rate  int
}

// due is when packet i is to be sent.
func (s schedule) due(i int) time.Time {
	if s.rate == 0 {
		return s.start
	}
	whole, part := int64(i)/int64(s.rate), int64(i)%int64(s.rate) // in two parts: i*1e9 overflows past 9.2e9
	return s.start.Add(time.Duration(whole)*time.Second + time.Duration(part*int64(time.Second)/int64(s.rate)))
}

// batchSender sends frames first, first+1, … (modulo the frames loaded), up to n of them, and returns how many
// went out.
type batchSender interface {
	sendBatch(first, n int) (int, error)
}

// send sends count packets in batches of at most batch, each batch when its first packet is due. A batch that
// is late goes at once: the schedule is absolute, so the average rate holds.
func send(s batchSender, sch schedule, count, batch int) error {
	for i := 0; i < count; {
		if wait := time.Until(sch.due(i)); wait > 0 {
			time.Sleep(wait)
		}
		n, err := s.sendBatch(i, min(batch, count-i))
		if err != nil {
			return fmt.Errorf("send packet %d: %w", i+1, err)
		}
		i += n
	}
	return nil
}
