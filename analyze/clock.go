package analyze

import "time"

// maxClockJump is the largest step forward capture time takes on one frame's word alone. A frame further
// ahead of the clock moves it only once the frame after it agrees (is not back more than this before it): one
// frame with a far-future timestamp (a broken clock, an edited file) would otherwise expire every open
// connection at once and turn a handshake still in progress into a false blocked. A capture that jumps and
// stays (files joined end to end, a quiet spell of more than a minute) moves the clock one frame late: the
// frame after the gap is read before what the gap expired is reported. A minute keeps that rare in a busy
// capture while a lone frame can still age open connections by at most a minute (DNS queries by 10 s time out
// anyway; a SYN waits 130 s).
const maxClockJump = time.Minute

// captureClock is capture time as expiry sees it: the latest frame time, never back, with lone frames far
// ahead left out (counted as time jumps).
type captureClock struct {
	now     time.Time
	nowNs   int64
	started bool
	pend    time.Time // a frame far ahead, waiting for the next to confirm it
	pendNs  int64
	pending bool
	jumps   uint64 // frames far ahead of the frames on both sides of them
}

// observe takes the time of the next frame (or of a quiet wire) in reading order.
func (c *captureClock) observe(ts time.Time, ns int64) {
	if c.pending {
		c.pending = false
		if ns < c.pendNs-int64(maxClockJump) {
			c.jumps++ // time came back: the frame ahead stood alone
		} else {
			c.now, c.nowNs = c.pend, c.pendNs
		}
	}
	if !c.started {
		c.now, c.nowNs, c.started = ts, ns, true
		return
	}
	if ns > c.nowNs+int64(maxClockJump) {
		c.pend, c.pendNs, c.pending = ts, ns, true
		return
	}
	if ns > c.nowNs {
		c.now, c.nowNs = ts, ns
	}
}

// end settles a frame still waiting at the end of the capture: with no frame after it to agree, it stood
// alone, and is counted (the capture reader likewise reports a last frame far from the one before it).
func (c *captureClock) end() {
	if c.pending {
		c.pending = false
		c.jumps++
	}
}
