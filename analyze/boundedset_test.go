package analyze

import "testing"

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
