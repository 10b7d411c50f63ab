package analyze

// boundedSet remembers at most limit keys; when it is full, the oldest key is forgotten to make room. The
// engine uses it wherever the capture could otherwise make a set grow without end.
type boundedSet[K comparable] struct {
	set   map[K]struct{}
	order []K // insertion order, a ring once full
	next  int
	limit int
}

// add remembers k and reports whether it was new. One map assignment does both the lookup and the insert:
// the set's length says whether the key was there.
func (b *boundedSet[K]) add(k K) bool {
	if b.set == nil {
		b.set = make(map[K]struct{})
	}
	n := len(b.set)
	b.set[k] = struct{}{}
	if len(b.set) == n {
		return false
	}
	if len(b.order) < b.limit {
		b.order = append(b.order, k)
		return true
	}
	if old := b.order[b.next]; old != k { // k's own slot, left by remove: nothing else to forget
		delete(b.set, old)
	}
	b.order[b.next] = k
	b.next = (b.next + 1) % b.limit
	return true
}

func (b *boundedSet[K]) has(k K) bool {
	_, ok := b.set[k]
	return ok
}

// remove forgets k. Its slot in the insertion order stays until the ring comes round to it, so a set with
// removals may forget an older key a little early; it never holds more than limit keys.
func (b *boundedSet[K]) remove(k K) {
	delete(b.set, k)
}
