package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
)

// tagVLANCmd rewrites an Ethernet pcap so that every frame carries 802.1Q tags. The lab records its VLAN
// scenario on a real tagged veth when the kernel has 8021q; on kernels without it (some CI and VM
// kernels) record.sh records untagged and tags the frames here, which yields the same bytes a tagged
// link would have shown.
func tagVLANCmd(args []string) error {
	fs := flag.NewFlagSet("tag-vlan", flag.ContinueOnError)
	ids := fs.String("id", "100", "VLAN id, or outer,inner for a stacked 802.1ad (QinQ) tag")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 2 {
		return usageError{errors.New("usage: labd tag-vlan [--id ID[,ID]] IN.pcap OUT.pcap")}
	}
	tags, err := parseVLANs(*ids)
	if err != nil {
		return usageError{err}
	}
	in, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open input: %w", err)
	}
	defer in.Close()
	out, err := os.Create(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	w := bufio.NewWriter(out)
	if err := tagPcap(bufio.NewReader(in), w, tags); err != nil {
		out.Close()
		return fmt.Errorf("tag %s: %w", fs.Arg(0), err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("write output: %w", err)
	}
	return out.Close()
}

func parseVLANs(s string) ([]uint16, error) {
	var tags []uint16
	for _, f := range splitComma(s) {
		n, err := strconv.ParseUint(f, 10, 12)
		if err != nil || n == 0 || n == 4095 {
			return nil, fmt.Errorf("bad VLAN id %q", f)
		}
		tags = append(tags, uint16(n))
	}
	if len(tags) == 0 || len(tags) > 2 {
		return nil, fmt.Errorf("want one or two VLAN ids, got %q", s)
	}
	return tags, nil
}

// vlanHeader is the 4- or 8-byte tag block inserted after the MAC addresses: 802.1ad (0x88a8) outside
// when stacked, 802.1Q (0x8100) inside, priority 0.
func vlanHeader(tags []uint16) []byte {
	var h []byte
	for i, id := range tags {
		tpid := uint16(0x8100)
		if len(tags) > 1 && i == 0 {
			tpid = 0x88a8
		}
		h = binary.BigEndian.AppendUint16(h, tpid)
		h = binary.BigEndian.AppendUint16(h, id)
	}
	return h
}

const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	linkEthernet   = 1
	maxRecord      = 1 << 18
)

// tagPcap copies a little- or big-endian classic pcap of Ethernet frames, inserting the tags into every
// frame and growing both lengths. Snapped frames keep their snap (the tag sits inside captured bytes).
func tagPcap(r io.Reader, w io.Writer, tags []uint16) error {
	var gh [24]byte
	if _, err := io.ReadFull(r, gh[:]); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch m := binary.LittleEndian.Uint32(gh[:4]); {
	case m == pcapMagicMicro || m == pcapMagicNano:
	case binary.BigEndian.Uint32(gh[:4]) == pcapMagicMicro || binary.BigEndian.Uint32(gh[:4]) == pcapMagicNano:
		bo = binary.BigEndian
	default:
		return errors.New("not a classic pcap file")
	}
	if lt := bo.Uint32(gh[20:24]) & 0x0fffffff; lt != linkEthernet {
		return fmt.Errorf("link type %d, want Ethernet (1)", lt)
	}
	tag := vlanHeader(tags)
	bo.PutUint32(gh[16:20], bo.Uint32(gh[16:20])+uint32(len(tag))) // snaplen
	if _, err := w.Write(gh[:]); err != nil {
		return err
	}
	var rh [16]byte
	for {
		if _, err := io.ReadFull(r, rh[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read record header: %w", err)
		}
		incl, orig := bo.Uint32(rh[8:12]), bo.Uint32(rh[12:16])
		if incl > maxRecord {
			return fmt.Errorf("record of %d bytes", incl)
		}
		frame := make([]byte, incl)
		if _, err := io.ReadFull(r, frame); err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		if len(frame) >= 14 {
			frame = append(frame[:12:12], append(tag, frame[12:]...)...)
			bo.PutUint32(rh[8:12], incl+uint32(len(tag)))
			bo.PutUint32(rh[12:16], orig+uint32(len(tag)))
		}
		if _, err := w.Write(rh[:]); err != nil {
			return err
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
	}
}
