package memtrim

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

func TestWorthTrimming(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name      string
		prev, now sample
		left      uint64
		want      bool
	}{
		{"quiet with much free heap", sample{allocs: 100 * mb}, sample{allocs: 101 * mb, live: 100 * mb, free: 80 * mb}, 0, true},
		{"quiet with many cached stacks", sample{allocs: 100 * mb}, sample{allocs: 101 * mb, live: 20 * mb, stacks: 20 * mb}, 0, true},
		{"busy: allocating a lot", sample{allocs: 100 * mb}, sample{allocs: 200 * mb, live: 100 * mb, free: 80 * mb}, 0, false},
		{"little free heap", sample{allocs: 100 * mb}, sample{allocs: 100 * mb, live: 100 * mb, free: 10 * mb}, 0, false},
		{"free heap small against live", sample{allocs: 0}, sample{allocs: 0, live: 400 * mb, free: 50 * mb}, 0, false},
		{"small process", sample{}, sample{live: 4 * mb, free: 8 * mb}, 0, false},
		{"what the last trim could not return", sample{}, sample{live: 40 * mb, stacks: 60 * mb}, 58 * mb, false},
		{"grown since the last trim", sample{}, sample{live: 40 * mb, stacks: 60 * mb, free: 30 * mb}, 58 * mb, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := worthTrimming(tc.prev, tc.now, tc.left); got != tc.want {
				t.Fatalf("worthTrimming = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRunReturnsMemory: after a burst of garbage and a quiet interval, Run
// gives the free heap back.
func TestRunReturnsMemory(t *testing.T) {
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	// Two GCs: the garbage is now free heap, the live heap small.
	runtime.GC()
	runtime.GC()
	before := read()
	if before.reclaimable() < minReclaim {
		t.Skipf("the runtime already returned the memory (free %d)", before.free)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Run(ctx, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	deadline := time.Now().Add(5 * time.Second)
	for read().free >= minReclaim {
		if time.Now().After(deadline) {
			t.Fatalf("free heap still %d after 5 s (was %d)", read().free, before.free)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var sink [][]byte

func TestRunDisabled(t *testing.T) {
	done := make(chan struct{})
	go func() { Run(context.Background(), 0, nil); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run with interval 0 did not return")
	}
}
