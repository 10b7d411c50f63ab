package report

import (
	"fmt"
	"strings"

	"github.com/intunecap/intunecap/internal/safetext"
	"github.com/intunecap/intunecap/result"
)

// lossRows are the counters of damaged and lost packets, always shown so a clean capture is visibly clean:
// bad checksums, segments the capture missed, SYN-ACKs it missed.
func lossRows(q *result.Quality) []qualityRow {
	synack := "clients answered SYN-ACKs the capture missed"
	if q.MissingSynAck > 0 && uint64(q.OneSided) >= q.MissingSynAck {
		synack = "the capture sees one direction only: record where both pass"
	}
	return []qualityRow{
		{"bad checksums", q.BadChecksums, "damaged packets (or rewritten by an anonymiser)"},
		{"ACKed unseen", q.AckedUnseen, "connections with segments ACKed but never captured"},
		{"missing SYN-ACK", q.MissingSynAck, synack},
	}
}

// offloadLine says once that the listed hosts' bad checksums are their own NIC's offload, not damage; empty
// when no host offloads.
func offloadLine(q *result.Quality) string {
	if len(q.ChecksumOffload) == 0 {
		return ""
	}
	hosts := make([]string, len(q.ChecksumOffload))
	for i, a := range q.ChecksumOffload {
		hosts[i] = safetext.Text(a) + "'s"
	}
	return fmt.Sprintf("checksum offload on %s own packets (%d packets): not damage",
		strings.Join(hosts, ", "), q.ChecksumOffloadPackets)
}

// offloadRows is the offload line as a counter row, for the HTML report's table.
func offloadRows(q *result.Quality) []qualityRow {
	if line := offloadLine(q); line != "" {
		return []qualityRow{{"checksum offload", q.ChecksumOffloadPackets, strings.TrimPrefix(line, "checksum offload ")}}
	}
	return nil
}
