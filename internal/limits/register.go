package limits

import (
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// ErrTooManyRegistrations means the address created its hourly quota of
// accounts (limits.registrations_per_ip_per_hour).
var ErrTooManyRegistrations = errors.New("limits: too many account registrations from this address")

// RegistrationWindow is the period registrations_per_ip_per_hour counts.
const RegistrationWindow = time.Hour

// ReserveRegistration takes one of a's in-band registrations for the hour
// (XEP-0077). It returns ErrTooManyRegistrations when the quota is used up.
// The caller calls release if the account was not created after all, so
// only accounts that exist count; the reservation makes concurrent
// attempts from one address count exactly.
func (l *IPLimiter) ReserveRegistration(a netip.Addr) (release func(), err error) {
	a = a.Unmap()
	if l.exempt(a) || l.cfg.RegistrationsPerIPPerHour <= 0 {
		return func() {}, nil
	}
	l.regMu.Lock()
	defer l.regMu.Unlock()
	now := l.now()
	times := pruneBefore(l.regs[a], now.Add(-RegistrationWindow))
	if len(times) >= l.cfg.RegistrationsPerIPPerHour {
		l.setRegs(a, times)
		return nil, ErrTooManyRegistrations
	}
	l.setRegs(a, append(times, now))
	var once sync.Once
	return func() { once.Do(func() { l.unreserve(a, now) }) }, nil
}

func (l *IPLimiter) unreserve(a netip.Addr, at time.Time) {
	l.regMu.Lock()
	defer l.regMu.Unlock()
	times := l.regs[a]
	if i := slices.Index(times, at); i >= 0 {
		l.setRegs(a, slices.Delete(times, i, i+1))
	}
}

// setRegs stores times for a (regMu held), forgetting empty records.
func (l *IPLimiter) setRegs(a netip.Addr, times []time.Time) {
	if len(times) == 0 {
		delete(l.regs, a)
		return
	}
	if l.regs == nil {
		l.regs = map[netip.Addr][]time.Time{}
	}
	l.regs[a] = times
}

// sweepRegistrations forgets registrations older than the window.
func (l *IPLimiter) sweepRegistrations(now time.Time) {
	l.regMu.Lock()
	defer l.regMu.Unlock()
	for a, times := range l.regs {
		l.setRegs(a, pruneBefore(times, now.Add(-RegistrationWindow)))
	}
}

// pruneBefore drops the times not after cutoff (times are in order).
func pruneBefore(times []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(times) && !times[i].After(cutoff) {
		i++
	}
	return times[i:]
}
