package loadtest

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in log-linear buckets (64 per power of two,
// so a quantile is within 1.6 % of the true value). Recording is one
// atomic add; it is safe for concurrent use.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	subBits     = 6
	subCount    = 1 << subBits
	histBuckets = (64 - subBits + 1) * subCount
)

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	exp := bits.Len64(v) - subBits // >= 1
	return exp*subCount + int(v>>uint(exp-1)&(subCount-1))
}

// lowerBound is the smallest value that falls in bucket i.
func lowerBound(i int) uint64 {
	exp, sub := i/subCount, uint64(i%subCount)
	if exp == 0 {
		return sub
	}
	return (subCount + sub) << uint(exp-1)
}

// Record adds one sample; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest sample.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the q-quantile (0 < q <= 1), the midpoint of its
// bucket, never above Max; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo := lowerBound(i)
			hi := lowerBound(i + 1)
			mid := time.Duration(lo + (hi-lo)/2)
			return min(mid, h.Max())
		}
	}
	return h.Max()
}
