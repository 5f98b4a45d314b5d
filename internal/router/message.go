package router

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Message types (RFC 6121 §5.2.2), the stanza package's.
const (
	MsgNormal    = stanza.MsgNormal
	MsgChat      = stanza.MsgChat
	MsgGroupchat = stanza.MsgGroupchat
	MsgHeadline  = stanza.MsgHeadline
	MsgError     = stanza.MsgError
)

func messageType(el *stanza.Element) string {
	t := el.Attr("type")
	if t == "" {
		return MsgNormal
	}
	return t
}

func (r *Router) routeMessage(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if to.IsZero() {
		to = from.Bare() // RFC 6120 §10.3.1: no 'to' means the sender's own bare JID
	}
	if oid := originID(el); oid != "" && from.Local() != "" && r.IsLocal(from.Domain()) && messageType(el) != MsgError {
		dup, done := r.dedupe.claim(ctx, from.Bare(), to, oid)
		if dup {
			r.log.Debug("resent message dropped", "from", from, "to", to, "origin-id", oid)
			return nil
		}
		// The outcome is known only once the message was handled, which
		// may be later (it waits in its sender's pipeline for the
		// archive): a failed first copy must not make its resend a dup.
		return r.runMessage(ctx, from, to, el, func(err error) error { done(err == nil); return err })
	}
	return r.runMessage(ctx, from, to, el, nil)
}

// runMessage runs the message hooks, then the delivery rules, and gives
// the outcome to finish (when not nil) once it is known. When a hook sets
// Event.Wait (the archive's commit) and the sender's session has a
// pipeline, the rest runs there in order after the wait and runMessage
// returns at once.
func (r *Router) runMessage(ctx context.Context, from, to jid.JID, el *stanza.Element, finish func(error) error) error {
	if finish == nil {
		finish = func(err error) error { return err }
	}
	ev := &module.Event{From: from, To: to, Stanza: el}
	p := module.PipelineFrom(ctx)
	if p == nil {
		if handled, err := r.reg.RunHooks(ctx, module.InboundMessage, ev); err != nil || handled {
			return finish(err)
		}
		return finish(r.deliverMessage(ctx, from, to, el))
	}
	handled, next, err := r.reg.RunHooksUntilWait(ctx, module.InboundMessage, ev)
	if err != nil || handled {
		return finish(err)
	}
	rest := func(ctx context.Context) error {
		if handled, err := r.reg.RunHooksFrom(ctx, module.InboundMessage, ev, next); err != nil || handled {
			return err
		}
		return r.deliverMessage(ctx, from, to, el)
	}
	if ev.Wait == nil && !p.Busy() {
		return finish(rest(ctx))
	}
	// The sender's session goes on reading; the rest runs in order once
	// the wait is over. A failed wait is the message's outcome too.
	wait := ev.Wait
	p.Defer(func() error {
		if wait == nil {
			return nil
		}
		if err := wait(); err != nil {
			return finish(err)
		}
		return nil
	}, func(ctx context.Context) error { return finish(rest(ctx)) })
	return nil
}

// deliverMessage routes a message whose InboundMessage hooks ran.
func (r *Router) deliverMessage(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if !r.IsLocal(to.Domain()) {
		return r.remoteRoute(ctx, from, to, el)
	}
	typ := messageType(el)
	switch {
	case to.IsDomain():
		return nil // messages to the server itself are consumed (RFC 6120 §10.5.1)
	case to.IsBare():
		return r.messageToBare(ctx, from, to, el, typ)
	}
	if s := r.Session(to); s != nil && r.deliverTo(ctx, from, s, el) {
		return nil
	}
	return r.messageToAbsentResource(ctx, from, to, el, typ)
}

// messageToAbsentResource applies RFC 6121 §8.5.3.2.1: a full JID with no
// matching resource.
func (r *Router) messageToAbsentResource(ctx context.Context, from, to jid.JID, el *stanza.Element, typ string) error {
	switch typ {
	case MsgChat:
		return r.messageToBare(ctx, from, to.Bare(), el, typ)
	case MsgError, MsgHeadline:
		return nil
	default: // normal, groupchat
		return r.bounceUnlessError(typ, stanza.NewError(stanza.ServiceUnavailable))
	}
}

// messageToBare applies RFC 6121 §8.5.2 by type: chat and normal go to
// the available resources with the highest non-negative priority (else
// offline storage), headline to every available non-negative resource
// (else nowhere), groupchat to none (the sender gets an error), error
// nowhere.
func (r *Router) messageToBare(ctx context.Context, from, to jid.JID, el *stanza.Element, typ string) error {
	if ok, err := r.accountExists(ctx, to); err != nil {
		return err
	} else if !ok {
		return r.bounceUnlessError(typ, stanza.NewError(stanza.ServiceUnavailable))
	}
	switch typ {
	case MsgError:
		return nil
	case MsgGroupchat:
		return stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "groupchat messages cannot be sent to a user's bare JID")
	}
	targets := r.BestResources(to, typ)
	delivered := false
	for _, s := range targets {
		if r.deliverTo(ctx, from, s, el) {
			delivered = true
		}
	}
	if delivered || typ == MsgError || typ == MsgHeadline || typ == MsgGroupchat {
		return nil
	}
	ev := &module.Event{From: from, To: to, Stanza: el}
	if handled, err := r.reg.RunHooks(ctx, module.Offline, ev); err != nil || handled {
		return err
	}
	return stanza.NewError(stanza.ServiceUnavailable)
}

// BestResources picks the sessions a message of type typ to a bare JID is
// delivered to (RFC 6121 §8.5.2.1): the available resources with the
// highest non-negative priority; for headlines, every available resource
// with a non-negative priority. Carbons uses it to know who already has a
// message.
func (r *Router) BestResources(bare jid.JID, typ string) []Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var best []Session
	bestPrio := -1
	for _, s := range r.bare[bare] {
		avail, prio := s.Presence()
		if !avail || prio < 0 {
			continue
		}
		switch {
		case typ == MsgHeadline:
			best = append(best, s)
		case prio > bestPrio:
			best, bestPrio = append(best[:0], s), prio
		case prio == bestPrio:
			best = append(best, s)
		}
	}
	return best
}

func (r *Router) bounceUnlessError(typ string, err *stanza.Error) error {
	if typ == MsgError {
		return nil
	}
	return err
}
