package upload

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// sweepBatch is how many expired slots one pass of the sweeper takes.
const sweepBatch = 500

// Run deletes expired files and unused slots until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.sweepEvery())
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("deleting expired uploads failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepEvery is Config.SweepEvery or half the shorter of the file and
// slot lifetimes, between 100 ms and a minute.
func (s *Service) sweepEvery() time.Duration {
	if s.cfg.SweepEvery > 0 {
		return s.cfg.SweepEvery
	}
	d := min(s.cfg.ExpireAfter, s.cfg.SlotTimeout) / 2
	return min(max(d, 100*time.Millisecond), time.Minute)
}

// Sweep deletes the files and records of every slot that is over now.
func (s *Service) Sweep(ctx context.Context) error {
	for {
		slots, err := s.store.Expired(ctx, s.now(), sweepBatch)
		if err != nil {
			return err
		}
		for _, sl := range slots {
			// The part file is left only by a server that stopped during
			// the PUT.
			for _, p := range []string{s.diskPath(sl.ID), s.diskPath(sl.ID) + ".part"} {
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if err := s.store.Delete(ctx, sl.ID); err != nil {
				return err
			}
			mExpired.Inc()
			if !sl.Uploaded.IsZero() {
				s.log.Debug("expired upload deleted", "owner", sl.Owner, "slot", sl.ID)
			}
		}
		if len(slots) < sweepBatch {
			return nil
		}
	}
}
