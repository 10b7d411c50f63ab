package capture

import (
	"errors"
	"io"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readNext reads the next frame of s into s.pending. It returns false at the end of the file and, with a
// Warning, when the file cannot be read further: a damaged file loses its tail, never the frames before it.
func (s *source) readNext() (bool, *Warning) {
	if s.recs != nil {
		return s.readPcap()
	}
	off := s.offset()
	data, ci, err := s.pr.ZeroCopyReadPacketData()
	if err != nil {
		return false, s.stop(err, off)
	}
	s.stats.Frames++
	iface := s.ifBase + ci.InterfaceIndex
	s.syncInterfaces()
	lt := s.stats.Interfaces[iface].LinkType
	if !s.anyLT || lt != s.lastLT {
		s.noteLinkType(lt)
	}
	s.pending = Frame{
		Data:      data,
		Timestamp: ci.Timestamp,
		WireLen:   ci.Length,
		LinkType:  lt,
		File:      s.index,
		Number:    s.stats.Frames,
		Interface: iface,
	}
	return true, nil
}

// readPcap is readNext for a pcap file, whose frames all have the file's link type.
func (s *source) readPcap() (bool, *Warning) {
	data, ts, wireLen, err := s.recs.next()
	if err != nil {
		return false, s.stop(err, s.recs.recordOffset())
	}
	s.stats.Frames++
	if !s.anyLT {
		s.noteLinkType(s.pcapLT)
	}
	f := &s.pending // LinkType and File are the file's, set once (initPcap)
	f.Data, f.Timestamp, f.WireLen = data, ts, wireLen
	f.Number, f.Chunk = s.stats.Frames, s.recs.chunk()
	return true, nil
}

// stop ends reading the file on err: silently at its end, else with a Warning saying where.
func (s *source) stop(err error, off int64) *Warning {
	if errors.Is(err, io.EOF) {
		return nil
	}
	s.stats.Stopped = true
	return &Warning{
		File:   s.stats.Name,
		Frame:  s.stats.Frames + 1,
		Offset: off,
		Msg:    describe(err) + "; rest of file skipped",
	}
}

func (s *source) noteLinkType(lt layers.LinkType) {
	s.lastLT, s.anyLT = lt, true
	for _, seen := range s.stats.LinkTypes {
		if seen == lt {
			return
		}
	}
	s.stats.LinkTypes = append(s.stats.LinkTypes, lt)
}

// syncInterfaces copies the interface descriptions of the current pcapng section that are new.
func (s *source) syncInterfaces() {
	for i := len(s.stats.Interfaces) - s.ifBase; i < s.ng.NInterfaces(); i++ {
		ifc, err := s.ng.Interface(i)
		if err != nil {
			return
		}
		s.addInterface(ifc)
	}
}

func (s *source) addInterface(ifc pcapgo.NgInterface) {
	s.stats.Interfaces = append(s.stats.Interfaces, Interface{
		Index:    len(s.stats.Interfaces),
		Name:     ifc.Name,
		LinkType: ifc.LinkType,
		SnapLen:  ifc.SnapLength,
	})
}

// sectionEnd is pcapgo's callback when a new section begins: interface ids restart at 0, so the file-wide index
// of the next section's interfaces starts after this one's.
func (s *source) sectionEnd(ifaces []pcapgo.NgInterface, _ pcapgo.NgSectionInfo) {
	for i := len(s.stats.Interfaces) - s.ifBase; i < len(ifaces); i++ {
		s.addInterface(ifaces[i])
	}
	s.ifBase += len(ifaces)
}

// interfaceStats is pcapgo's callback for an interface statistics block; its counters are cumulative, so the
// latest value wins.
func (s *source) interfaceStats(id int, st pcapgo.NgInterfaceStatistics) {
	s.syncInterfaces()
	i := s.ifBase + id
	if i < 0 || i >= len(s.stats.Interfaces) {
		return
	}
	ifc := &s.stats.Interfaces[i]
	if st.PacketsDropped != pcapgo.NgNoValue64 {
		ifc.DropsKnown, ifc.Dropped = true, st.PacketsDropped
	}
	if st.PacketsReceived != pcapgo.NgNoValue64 {
		ifc.Received = st.PacketsReceived
	}
}

// snapshot returns a copy of the file's statistics that the caller may keep.
func (s *source) snapshot() FileStats {
	fs := s.stats
	fs.BytesRead = s.raw.n.Load()
	fs.LinkTypes = append([]layers.LinkType(nil), s.stats.LinkTypes...)
	fs.Interfaces = append([]Interface(nil), s.stats.Interfaces...)
	return fs
}
