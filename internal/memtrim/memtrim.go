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
	// minFree is the least free heap worth a trim; trims also need free
	// heap above live / 4.
	minFree = 16 << 20
)

// sample is what one look at the runtime counters gives.
type sample struct {
	allocs uint64 // bytes allocated since the process started
	live   uint64 // heap marked live by the last GC
	free   uint64 // free heap not yet returned to the system
}

var names = []string{"/gc/heap/allocs:bytes", "/gc/heap/live:bytes", "/memory/classes/heap/free:bytes"}

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
	return sample{allocs: get(0), live: get(1), free: get(2)}
}

// worthTrimming decides from two samples an interval apart.
func worthTrimming(prev, now sample) bool {
	quiet := now.allocs-prev.allocs < now.live/quietFraction
	return quiet && now.free >= minFree && now.free > now.live/4
}

// Run checks every interval until ctx ends; interval <= 0 does nothing.
func Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	prev := read()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := read()
		if worthTrimming(prev, now) {
			// Two collections: sync.Pool contents survive one (the
			// victim cache), and pools hold the buffers idle
			// connections gave back.
			runtime.GC()
			debug.FreeOSMemory()
			after := read()
			log.Debug("returned free heap to the system", "free_before", now.free, "free_after", after.free, "live", after.live)
			now = after
		}
		prev = now
	}
}
