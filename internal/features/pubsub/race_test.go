//go:build race

package pubsub_test

// raceEnabled: the race detector slows the embedded SQLite (C translated to
// Go) by an order of magnitude, so the long tests do less.
const raceEnabled = true
