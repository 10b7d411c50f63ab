package analyze

// firstBytes collects the first bytes one side of a TCP connection sent, in sequence order, however the segments
// arrived: out of order, retransmitted, overlapping or cut by snaplen. Only the contiguous prefix starting at the
// first byte after the SYN is ever handed to a parser, so a name is read only from bytes that were captured.
// Its buffer is capped; bytes beyond the cap are ignored.
type firstBytes struct {
	buf   []byte
	spans [maxSpans]span // received byte ranges, relative to the first data byte, sorted and disjoint
	n     int
	base  uint32 // sequence number of the first data byte
	known bool   // base is set
	limit int    // cap on buf
	// overflowed: a segment was dropped because the stream had maxSpans pieces already (counted once)
	overflowed bool
}

// span is a half-open range [lo, hi) of stream offsets, in 32 bits: a stream holds at most its limit, an
// int32 (newStreams), and a connection's streams carry two tables of maxSpans.
type span struct{ lo, hi int32 }

// maxSpans bounds how many holes a stream may have before later segments are dropped: a ClientHello arrives in
// a handful of segments, so more than this is either hostile or hopeless.
const maxSpans = 16

// start fixes the stream's first data byte at seq (the SYN's sequence number + 1).
func (s *firstBytes) start(seq uint32) {
	if !s.known {
		s.base, s.known = seq, true
	}
}

// add stores a segment that began at seq. captured is the payload bytes present in the capture; wireLen is the
// payload length on the wire, so a snaplen-cut segment leaves a hole after its captured part.
//
// Bytes already held are never overwritten: when segments overlap, the first copy is kept, as most receiving
// stacks deliver it (and as Suricata and Zeek reassemble by default). conflict reports that the segment resent
// held bytes with different contents (an evasion: the capture and the server may read different names).
// overflow reports, once per stream, that the segment was dropped because the stream already had maxSpans
// disjoint pieces.
func (s *firstBytes) add(seq uint32, captured []byte, pool *bufPool) (conflict, overflow bool) {
	if len(captured) == 0 {
		return false, false
	}
	if !s.known {
		s.start(seq)
	}
	off := int(int32(seq - s.base))
	if off < 0 { // part before the stream start: a retransmission or a segment before a mid-stream start
		if -off >= len(captured) {
			return false, false
		}
		captured = captured[-off:]
		off = 0
	}
	if off >= s.limit {
		return false, false
	}
	end := off + len(captured)
	if end > s.limit {
		end = s.limit
		captured = captured[:end-off]
	}
	if !s.fits(off, end) {
		overflow = !s.overflowed
		s.overflowed = true
		return false, overflow
	}
	if end > cap(s.buf) {
		s.grow(end, pool)
	}
	if end > len(s.buf) {
		s.buf = s.buf[:end]
	}
	conflict = s.fill(off, end, captured)
	s.insert(off, end)
	return conflict, false
}

// grow gives the stream a buffer that holds at least need bytes: double the old one (at least firstBufBytes),
// at most the cap. Most first flights (a ClientHello, an HTTP request head) fit the smallest buffer, so a
// connection does not pay for clearing the whole cap.
func (s *firstBytes) grow(need int, pool *bufPool) {
	size := min(max(need, 2*cap(s.buf), firstBufBytes), s.limit)
	nb := pool.get(size)[:len(s.buf)]
	copy(nb, s.buf)
	if s.buf != nil {
		pool.put(s.buf)
	}
	s.buf = nb
}

// firstBufBytes is the size of a stream's first buffer.
const firstBufBytes = 2048

// fill writes the bytes of [off, end) that no span holds yet from captured (which starts at off), and reports
// whether the bytes spans already hold differ from captured's.
func (s *firstBytes) fill(off, end int, captured []byte) (conflict bool) {
	pos := off
	for i := 0; i < s.n && pos < end; i++ {
		lo, hi := int(s.spans[i].lo), int(s.spans[i].hi)
		if hi <= pos {
			continue
		}
		if lo >= end {
			break
		}
		if lo > pos {
			copy(s.buf[pos:lo], captured[pos-off:lo-off])
			pos = lo
		}
		hi = min(hi, end)
		if string(s.buf[pos:hi]) != string(captured[pos-off:hi-off]) {
			conflict = true
		}
		pos = hi
	}
	if pos < end {
		copy(s.buf[pos:end], captured[pos-off:])
	}
	return conflict
}

// fits reports whether [lo, hi) can be recorded: it touches a span already held, or the table has room.
func (s *firstBytes) fits(lo, hi int) bool {
	if s.n < maxSpans {
		return true
	}
	for i := 0; i < s.n; i++ {
		if int(s.spans[i].hi) >= lo && int(s.spans[i].lo) <= hi {
			return true
		}
	}
	return false
}

// insert records [lo, hi) as received, merging touching spans. It reports false when the span table is full
// (add checks fits first).
func (s *firstBytes) insert(lo, hi int) bool {
	i := 0
	for i < s.n && int(s.spans[i].hi) < lo {
		i++
	}
	j := i
	for j < s.n && int(s.spans[j].lo) <= hi {
		lo = min(lo, int(s.spans[j].lo))
		hi = max(hi, int(s.spans[j].hi))
		j++
	}
	if i == j { // no overlap: make room at i
		if s.n == maxSpans {
			return false
		}
		copy(s.spans[i+1:s.n+1], s.spans[i:s.n])
		s.n++
		s.spans[i] = span{int32(lo), int32(hi)}
		return true
	}
	s.spans[i] = span{int32(lo), int32(hi)}
	removed := j - i - 1
	copy(s.spans[i+1:], s.spans[j:s.n])
	s.n -= removed
	return true
}

// contiguous returns the bytes received without a gap from the stream's start.
func (s *firstBytes) contiguous() []byte {
	if s.n == 0 || s.spans[0].lo != 0 {
		return nil
	}
	return s.buf[:int(s.spans[0].hi)]
}

// holdsOnly reports whether the stream holds exactly its first n bytes.
func (s *firstBytes) holdsOnly(n int) bool {
	return s.n == 1 && s.spans[0].lo == 0 && int(s.spans[0].hi) == n
}

// full reports whether the contiguous prefix has reached the cap, so no parser will ever see more.
func (s *firstBytes) full() bool {
	return s.n > 0 && s.spans[0].lo == 0 && int(s.spans[0].hi) >= s.limit
}

// release returns the buffer to the pool; the stream keeps its base so later segments are still ignored cheaply.
func (s *firstBytes) release(pool *bufPool) {
	if s.buf != nil {
		pool.put(s.buf)
		s.buf = nil
	}
	s.n = 0
	s.limit = 0
}

// bufPool recycles stream buffers between connections of one engine, so steady-state traffic allocates none.
// Buffers are kept by size class (powers of two from poolMinBytes, and anything larger in the last class), at
// most maxFree a class, so a request is served from its class without searching.
type bufPool struct {
	free    [poolClasses][][]byte
	maxFree int
}

const (
	poolMinBytes = 1024
	poolClasses  = 6 // 1, 2, 4, 8, 16 KiB, and larger
)

// poolClass returns the class whose buffers hold size bytes, and the capacity to allocate for it.
func poolClass(size int) (class, capacity int) {
	capacity = poolMinBytes
	for class = 0; class < poolClasses-1; class++ {
		if size <= capacity {
			return class, capacity
		}
		capacity *= 2
	}
	return poolClasses - 1, size
}

// get returns an empty buffer with room for size bytes.
func (p *bufPool) get(size int) []byte {
	class, capacity := poolClass(size)
	free := p.free[class]
	for i := len(free) - 1; i >= 0; i-- { // the last class holds buffers of any size above the others
		if cap(free[i]) >= size {
			b := free[i]
			free[i] = free[len(free)-1]
			p.free[class] = free[:len(free)-1]
			return b[:0]
		}
	}
	return make([]byte, 0, capacity)
}

// put keeps b for a later get, unless its class is full.
func (p *bufPool) put(b []byte) {
	class, _ := poolClass(cap(b))
	if class < poolClasses-1 && cap(b) != poolMinBytes<<class {
		class-- // a buffer of another size (a cap between classes) serves the class below
	}
	if class >= 0 && len(p.free[class]) < p.maxFree {
		p.free[class] = append(p.free[class], b[:0])
	}
}
