//go:build race

package fanout_test

// raceEnabled slows everything about tenfold; timing bounds widen accordingly.
const raceEnabled = true
