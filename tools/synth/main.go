// Command synth writes a synthetic gateway capture and, beside it, FILE.expected.json: the number of records
// per verdict an analysis with the intune-2015 table must give, from the generator's own ground truth.
//
//	go run ./tools/synth -o FILE -size 1GB -seed 1 [-format pcap|pcapng] [-vlan] [-ipv6-share 0.2] [-mix bulk|conns]
//	go run ./tools/synth -o FILE -syn-flood 1000000
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/intunecap/intunecap/internal/bytesize"
	"github.com/intunecap/intunecap/tools/synth/gen"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "synth: %v\n", err)
		os.Exit(2)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the capture to `FILE` (and FILE.expected.json)")
	size := fs.String("size", "20MB", "stop starting sessions at this file `SIZE` (KB, MB, GB = powers of 1000; KiB, MiB, GiB = of 1024)")
	var cfg gen.Config
	fs.Int64Var(&cfg.Seed, "seed", 1, "random `SEED`: the same seed gives the same file")
	fs.StringVar(&cfg.Format, "format", "pcap", "`FORMAT`: pcap or pcapng")
	fs.BoolVar(&cfg.VLAN, "vlan", false, "tag every frame with an 802.1Q VLAN")
	fs.Float64Var(&cfg.IPv6Share, "ipv6-share", 0.2, "`SHARE` of sessions over IPv6 (0..1)")
	fs.StringVar(&cfg.Mix, "mix", gen.MixBulk, "`MIX` of sessions: bulk (downloads) or conns (many short connections)")
	fs.IntVar(&cfg.SYNFlood, "syn-flood", 0, "write only `N` half-open connections (memory test); -size is ignored")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New("usage: synth -o FILE [-size 1GB] [-seed N] [-format pcap|pcapng] [-vlan] [-ipv6-share F] [-mix bulk|conns] [-syn-flood N]")
	}
	n, err := parseSize(*size)
	if err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	cfg.Size = n
	start := time.Now()
	exp, err := writeCapture(*out, cfg)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "synth: wrote %s: %d bytes, %d packets, %d records in %.1fs (%.0f MB/s)\n",
		*out, exp.Bytes, exp.Packets, exp.Records, secs, float64(exp.Bytes)/1e6/secs)
	return nil
}

// writeCapture writes the capture and its expected counts; a failure removes neither file's old version
// half-written: both are written to temporary names first.
func writeCapture(path string, cfg gen.Config) (*gen.Expected, error) {
	tmp := path + ".tmp"
	exp, err := gen.WriteFile(tmp, cfg)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write capture: %w", err)
	}
	js, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode expected counts: %w", err)
	}
	if err := os.WriteFile(path+".expected.json", append(js, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write expected counts: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("rename capture: %w", err)
	}
	return exp, nil
}

// parseSize reads a capture size ("1GB", "100MiB", "20000000") as the CLI's sizes are read; 0 is refused.
func parseSize(s string) (int64, error) {
	n, err := bytesize.Parse(s)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("bad size %q (want more than 0 bytes, e.g. 100MB or 1GiB)", s)
	}
	return n, nil
}
