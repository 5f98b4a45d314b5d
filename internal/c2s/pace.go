package c2s

import "github.com/parleyim/parley/internal/module"

// This file lets a sender of a long burst (the offline queue at login)
// pace itself by the client's stream-management acks instead of running
// into sm.max_unacked and ending the session as a slow consumer
// (module.Paced). Live traffic is not paced: the burst takes at most half
// of the unacknowledged window, so that the other half is left for the
// stanzas that arrive meanwhile.

var _ module.Paced = (*Session)(nil)

// Room implements module.Paced: how many more stanzas a burst may queue
// now, or -1 without stream management (then only the output queue's
// byte limit applies, which the burst's sender bounds itself).
func (s *Session) Room() int {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.roomLocked()
}

// roomLocked is Room with o.mu held.
func (o *output) roomLocked() int {
	sm := o.s.sm
	if sm == nil {
		return -1
	}
	if len(sm.items) == 0 {
		return 1 // nothing unacknowledged: one stanza of any size fits
	}
	cfg := &o.s.srv.cfg
	if max := cfg.Limits.MaxOutboundBytes; max > 0 && sm.bytes >= max/2 {
		return 0
	}
	return max(burstWindow(cfg.SM.MaxUnacked)-len(sm.items), 0)
}

// burstWindow is the share of the unacknowledged window a burst may fill.
func burstWindow(maxUnacked int) int { return max(maxUnacked/2, 1) }

// WhenRoom implements module.Paced: f runs once, on a goroutine of its
// own, as soon as Room is positive: at once when it is now, else after
// the ack that makes room. An <r/> goes out if none is unanswered, so the
// client does ack. A later WhenRoom replaces an f not yet run; when the
// session ends first, f never runs.
func (s *Session) WhenRoom(f func()) {
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.roomLocked() != 0 {
		go f()
		return
	}
	sm := s.sm
	sm.onRoom = f
	if !sm.rOut && !sm.detached && o.queueLocked(rBytes) == nil {
		sm.rOut, sm.sinceR = true, 0
	}
}

// roomAfterAckLocked starts the waiting WhenRoom function once an ack
// made room (o.mu held).
func (o *output) roomAfterAckLocked() {
	sm := o.s.sm
	if sm.onRoom != nil && o.roomLocked() != 0 {
		go sm.onRoom()
		sm.onRoom = nil
	}
}
