package probe

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestForEachBound(t *testing.T) {
	for _, tt := range []struct{ n, limit, want int }{{20, 8, 8}, {3, 8, 3}, {5, 1, 1}, {4, 0, 1}} {
		var cur, peak, calls atomic.Int32
		gate := make(chan struct{})
		var open sync.Once
		done := make(chan struct{})
		go func() {
			forEach(tt.n, tt.limit, func(int) {
				c := cur.Add(1)
				for {
					p := peak.Load()
					if c <= p || peak.CompareAndSwap(p, c) {
						break
					}
				}
				calls.Add(1)
				if int(c) == tt.want {
					open.Do(func() { close(gate) }) // the bound is reached: let everyone go
				}
				<-gate
				cur.Add(-1)
			})
			close(done)
		}()
		<-done
		if int(peak.Load()) != tt.want || int(calls.Load()) != tt.n {
			t.Errorf("n %d limit %d: peak %d calls %d, want peak %d", tt.n, tt.limit, peak.Load(), calls.Load(), tt.want)
		}
	}
}
