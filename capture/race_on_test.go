//go:build race

package capture

// raceEnabled says the race detector is on: it multiplies memory and time, so the tests that bound them skip.
const raceEnabled = true
