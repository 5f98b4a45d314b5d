package memtrim

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Thresholds of the trimming policy.
const (
	// quietFraction: an interval is quiet when it allocated less than
	// live heap / quietFraction.
	quietFraction = 8
	// minReclaim is the least reclaimable memory worth a trim; a trim also
	// needs reclaimable memory above live / 4.
	minReclaim = 16 << 20
)

// sample is what one look at the runtime counters gives.
type sample struct {
	allocs uint64 // bytes allocated since the process started
	live   uint64 // heap marked live by the last GC
	free   uint64 // free heap not yet returned to the system
	stacks uint64 // memory held for goroutine stacks, in use or cached
}

// reclaimable is what a trim could give back at most: free heap, and
// stack memory, most of which is cached stacks of goroutines that exited
// (parked connections' readers) until a GC frees their spans.
func (s sample) reclaimable() uint64 { return s.free + s.stacks }

var names = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/stacks:bytes",
}

func read() sample {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	get := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return sample{allocs: get(0), live: get(1), free: get(2), stacks: get(3)}
}

// worthTrimming decides from two samples an interval apart and what the
// last trim left (reclaimable memory a trim could not give back, such as
// the stacks of goroutines still running, is not worth another).
func worthTrimming(prev, now sample, leftByLast uint64) bool {
	quiet := now.allocs-prev.allocs < now.live/quietFraction
	gain := int64(now.reclaimable()) - int64(leftByLast)
	return quiet && gain >= minReclaim && uint64(gain) > now.live/4
}

// Run checks every interval until ctx ends; interval <= 0 does nothing.
func Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	prev := read()
	var left uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := read()
		if worthTrimming(prev, now, left) {
			now = trim(now, log)
			left = now.reclaimable()
		}
		prev = now
	}
}

// trim collects twice (sync.Pool contents survive one collection as
// victims, and pools hold the buffers idle connections gave back; cached
// stacks are freed by a collection) and returns the free heap to the
// system.
func trim(before sample, log *slog.Logger) sample {
	runtime.GC()
	debug.FreeOSMemory()
	after := read()
	log.Debug("returned free memory to the system", "reclaimable_before", before.reclaimable(), "reclaimable_after", after.reclaimable(), "live", after.live)
	return after
}
