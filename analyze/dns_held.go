package analyze

import (
	"time"

	"github.com/intunecap/intunecap/result"
)

// heldDNS keeps failed lookups back, in the order they failed, until a successful lookup of the same name by
// the same client forgives them or their time is up. It is bounded by the caller's limit.
type heldDNS struct {
	byName  map[lookup][]int // client+name → indexes into entries
	entries []heldEntry
	live    int
}

type heldEntry struct {
	key   lookup
	rec   result.Record
	at    time.Time
	taken bool
}

// hold keeps r; it reports false when the limit is reached and r must be reported now.
func (h *heldDNS) hold(key lookup, r result.Record, at time.Time, limit int) bool {
	if h.live >= limit {
		return false
	}
	if h.byName == nil {
		h.byName = make(map[lookup][]int)
	}
	h.byName[key] = append(h.byName[key], len(h.entries))
	h.entries = append(h.entries, heldEntry{key: key, rec: r, at: at})
	h.live++
	return true
}

// take removes and returns every record held under key.
func (h *heldDNS) take(key lookup) []result.Record {
	if h.live == 0 { // nothing held: every successful answer asks, so skip the lookup
		return nil
	}
	idx := h.byName[key]
	if len(idx) == 0 {
		return nil
	}
	delete(h.byName, key)
	out := make([]result.Record, 0, len(idx))
	for _, i := range idx {
		h.entries[i].taken = true
		out = append(out, h.entries[i].rec)
		h.live--
	}
	h.compact()
	return out
}

// expire removes and returns, oldest first, the records held since before; a zero before takes them all.
func (h *heldDNS) expire(before time.Time) []result.Record {
	var out []result.Record
	for i := range h.entries {
		en := &h.entries[i]
		if en.taken {
			continue
		}
		if !before.IsZero() && !en.at.Before(before) {
			break
		}
		en.taken = true
		h.live--
		out = append(out, en.rec)
		h.dropIndex(en.key, i)
	}
	h.compact()
	return out
}

func (h *heldDNS) dropIndex(key lookup, i int) {
	idx := h.byName[key]
	for j, v := range idx {
		if v == i {
			idx = append(idx[:j], idx[j+1:]...)
			break
		}
	}
	if len(idx) == 0 {
		delete(h.byName, key)
	} else {
		h.byName[key] = idx
	}
}

// compact drops taken entries from the front so the slice does not grow without end.
func (h *heldDNS) compact() {
	n := 0
	for n < len(h.entries) && h.entries[n].taken {
		n++
	}
	if n == 0 {
		return
	}
	if n == len(h.entries) {
		h.entries = h.entries[:0]
		return
	}
	if n < len(h.entries)/2 {
		return // cheap to keep; indexes stay valid
	}
	rest := append([]heldEntry(nil), h.entries[n:]...)
	h.entries = rest
	for k, idx := range h.byName {
		for j := range idx {
			idx[j] -= n
		}
		h.byName[k] = idx
	}
}
