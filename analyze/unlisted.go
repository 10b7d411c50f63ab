package analyze

import "container/heap"

// unlistedSet counts records per unlisted name, keeping at most limit names: the lexicographically smallest
// seen. A name that once made way for smaller ones can never come back among the smallest, so the counts of
// the names kept are exact, and sets filled by engines that split the work merge into the set one engine
// fills. What is left out is counted (omitted records) and sketched (distinct names).
type unlistedSet struct {
	counts  map[string]int
	largest nameHeap // the kept names, largest on top, for eviction
	limit   int
	omitted int  // records of names not kept
	capped  bool // a name was left out
	sketch  distinctSketch
}

func newUnlistedSet(limit int) unlistedSet {
	return unlistedSet{counts: make(map[string]int), limit: limit}
}

// add counts n records of name.
func (u *unlistedSet) add(name string, n int) {
	if _, ok := u.counts[name]; ok {
		u.counts[name] += n
		return
	}
	u.sketch.add(name)
	if len(u.counts) < u.limit {
		u.counts[name] = n
		heap.Push(&u.largest, name)
		return
	}
	u.capped = true
	if top := u.largest[0]; name < top {
		u.omitted += u.counts[top]
		delete(u.counts, top)
		u.largest[0] = name
		heap.Fix(&u.largest, 0)
		u.counts[name] = n
		return
	}
	u.omitted += n
}

// merge adds another engine's set.
func (u *unlistedSet) merge(o *unlistedSet) {
	u.sketch.merge(&o.sketch)
	u.omitted += o.omitted
	u.capped = u.capped || o.capped
	for name, n := range o.counts {
		u.add(name, n)
	}
}

// distinct is how many distinct names were counted: exact unless a name was left out, else the sketch's
// estimate, never below the names kept plus one.
func (u *unlistedSet) distinct() (n int, estimated bool) {
	if !u.capped {
		return len(u.counts), false
	}
	return max(u.sketch.estimate(), len(u.counts)+1), true
}

// nameHeap is a max-heap of names.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
