//go:build race

package analyze_test

// raceEnabled says the race detector is on: it multiplies memory and time, so the tests that bound them skip.
const raceEnabled = true
