package analyze

import (
	"math/rand/v2"
	"testing"
)

func TestBoundedSet(t *testing.T) {
	b := boundedSet[string]{limit: 2}
	for _, k := range []string{"a", "b", "a", "c"} {
		b.add(k)
	}
	for k, want := range map[string]bool{"a": false, "b": true, "c": true, "d": false} {
		if b.has(k) != want {
			t.Errorf("has(%q) = %v, want %v", k, !want, want)
		}
	}
	if len(b.set) != 2 {
		t.Errorf("%d keys kept, limit 2", len(b.set))
	}
}

// TestBoundedSetAgainstModel holds add, has and remove to a plain model of what they promise: a ring of limit
// slots in insertion order, where adding a new key takes the next slot and forgets the key last put there,
// and remove forgets a key at once but leaves its slot. Random operations over a few keys, so that keys come
// back, are removed and meet their own old slot.
func TestBoundedSetAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, limit := range []int{1, 2, 3, 5, 8} {
		b := boundedSet[int]{limit: limit}
		var ring []int // the model: slots in insertion order
		next := 0
		in := map[int]bool{}
		for step := range 20000 {
			k := rng.IntN(2 * limit)
			switch op := rng.IntN(3); op {
			case 0, 1:
				wantNew := !in[k]
				if wantNew {
					if len(ring) < limit {
						ring = append(ring, k)
					} else {
						delete(in, ring[next])
						ring[next] = k
						next = (next + 1) % limit
					}
					in[k] = true
				}
				if got := b.add(k); got != wantNew {
					t.Fatalf("limit %d step %d: add(%d) = %v, want %v", limit, step, k, got, wantNew)
				}
			case 2:
				delete(in, k)
				b.remove(k)
			}
			for q := range 2 * limit {
				if b.has(q) != in[q] {
					t.Fatalf("limit %d step %d: has(%d) = %v, want %v", limit, step, q, b.has(q), in[q])
				}
			}
			if len(b.set) > limit {
				t.Fatalf("limit %d step %d: %d keys kept", limit, step, len(b.set))
			}
		}
	}
}
