package pushapp

import (
	"context"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// job is one notification to deliver and answer.
type job struct {
	device   storage.PushDevice
	summary  Summary
	iq       *stanza.Element // the publish, to answer
	from, to jid.JID         // of the answer
}

// work delivers queued notifications until Close.
func (m *Module) work() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case j := <-m.jobs:
			m.run(j)
		}
	}
}

// run delivers one notification and answers its publish: a result when
// the provider took it; item-not-found (cancel) when the provider said
// the token is dead, after disabling the device, so the user's server
// disables its registration too (XEP-0357 §8); internal-server-error of
// type wait when it could not be delivered now.
func (m *Module) run(j job) {
	out, reason := m.deliver(m.ctx, j.device, j.summary)
	mDeliveries.WithLabelValues(j.device.Provider, string(out)).Inc()
	log := m.cfg.Log.With("node", j.device.Node, "owner", j.device.Owner, "provider", j.device.Provider)
	var reply *stanza.Element
	switch out {
	case delivered:
		reply = stanza.IQResult(j.iq, nil, j.from, j.to)
	case dead:
		log.Info("pushapp: the provider says the device is gone; registration disabled", "reason", reason)
		if _, err := m.devices.Disable(m.ctx, j.device.Node, m.cfg.Now()); err != nil {
			log.Warn("pushapp: cannot disable a device", "err", err)
		}
		reply = stanza.ErrorReply(j.iq, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "the device is no longer registered (%s)", reason), j.from, j.to)
	default:
		log.Warn("pushapp: notification not delivered", "outcome", out, "reason", reason)
		reply = stanza.ErrorReply(j.iq, stanza.Errorf(stanza.Wait, stanza.InternalServerError, "not delivered: %s", reason), j.from, j.to)
	}
	if m.ctx.Err() == nil {
		m.cfg.Host.Deliver(m.ctx, j.to, reply)
	}
}

// deliver sends to the device's provider, trying again after a transient
// failure up to Retries times with a doubling backoff.
func (m *Module) deliver(ctx context.Context, d storage.PushDevice, s Summary) (outcome, string) {
	p := m.providers[d.Provider]
	backoff := m.cfg.App.RetryBackoff.D()
	for try := 0; ; try++ {
		out, reason := p.send(ctx, d, s)
		if out != transient || try >= m.cfg.App.Retries {
			return out, reason
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return transient, "shutting down"
		case <-t.C:
		}
		backoff *= 2
	}
}
