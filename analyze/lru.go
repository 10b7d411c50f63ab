package analyze

import "time"

// lruList is an intrusive list of connections in order of last activity, one per timeout class, so expiry
// pops from the front in O(1) and a packet moves its connection to the back without allocating.
type lruList struct {
	head, tail *conn
	timeout    time.Duration
	n          int
}

func (l *lruList) pushBack(c *conn) {
	c.lru = l
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.n++
}

func (l *lruList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next, c.lru = nil, nil, nil
	l.n--
}

// touch moves c to the back of list l (which may be the list it is already on).
func (l *lruList) touch(c *conn) {
	if c.lru == l && l.tail == c {
		return
	}
	if c.lru != nil {
		c.lru.remove(c)
	}
	l.pushBack(c)
}
