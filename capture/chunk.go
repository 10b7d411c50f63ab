package capture

import (
	"sync"
	"sync/atomic"

	"github.com/intunecap/intunecap/internal/prefault"
)

// Chunk is a block of file data that frames point into. A reader with retention on (Reader.Retain) leaves a
// chunk's bytes in place while anyone holds it, so a frame can be handed to another goroutine without copying
// its bytes: call Retain before the reader's next Next, Release when done with every frame of that chunk.
type Chunk struct {
	buf  []byte
	refs atomic.Int32
	pool *chunkPool
}

// Retain keeps the chunk's bytes valid until the matching Release.
func (c *Chunk) Retain() { c.refs.Add(1) }

// Release drops a hold taken with Retain; the last one lets the reader reuse the chunk.
func (c *Chunk) Release() {
	if c.refs.Add(-1) == 0 {
		c.pool.put(c)
	}
}

// chunkPool recycles chunks. It is shared by goroutines that release chunks, so it has a lock; it is used once
// per chunk, not per frame.
type chunkPool struct {
	mu   sync.Mutex
	free []*Chunk
	size int
	hot  int // where in a chunk reads begin: the bytes before it (headroom) are mostly never touched
}

// get returns a chunk held once (by the caller).
func (p *chunkPool) get() *Chunk {
	p.mu.Lock()
	var c *Chunk
	if n := len(p.free); n > 0 {
		c, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if c == nil {
		c = &Chunk{buf: make([]byte, p.size), pool: p}
		prefault.Bytes(c.buf[max(0, p.hot-recordHeaderLen):])
	}
	c.refs.Store(1)
	return c
}

func (p *chunkPool) put(c *Chunk) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}
