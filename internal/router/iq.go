package router

import (
	"context"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

func (r *Router) routeIQ(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	typ := el.Attr("type")
	switch typ {
	case stanza.Get, stanza.Set:
		if el.Attr("id") == "" || countChildren(el) != 1 {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq get/set needs an id and exactly one child")
		}
	case stanza.Result, stanza.TypeError:
		if el.Attr("id") == "" {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq result needs an id")
		}
	default:
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "unknown iq type %q", typ)
	}
	if r.reg.HasHooks(module.InboundIQ) {
		ev := &module.Event{From: from, To: to, Stanza: el}
		if handled, err := r.reg.RunHooks(ctx, module.InboundIQ, ev); err != nil || handled {
			return err
		}
	}
	switch {
	case !to.IsZero() && !r.IsLocal(to.Domain()):
		return r.remoteRoute(ctx, from, to, el)
	case !to.IsZero() && !to.IsBare():
		return r.iqToFull(ctx, from, to, el, typ)
	case typ == stanza.Result || typ == stanza.TypeError:
		return nil // answers to the server or an account are consumed here
	}
	return r.dispatchIQ(ctx, from, to, el, typ)
}

func (r *Router) iqToFull(ctx context.Context, from, to jid.JID, el *stanza.Element, typ string) error {
	s := r.Session(to)
	if s == nil || !r.deliverTo(ctx, from, s, el) {
		if typ == stanza.Result || typ == stanza.TypeError {
			return nil
		}
		return stanza.NewError(stanza.ServiceUnavailable)
	}
	return nil
}

// dispatchIQ answers a get/set addressed to the server, to an account or
// with no 'to' (the sender's own account, RFC 6120 §10.3.3).
func (r *Router) dispatchIQ(ctx context.Context, from, to jid.JID, el *stanza.Element, typ string) error {
	payload := el.FirstChild()
	var h module.IQHandler
	switch {
	case to.IsZero():
		if h = r.reg.LookupIQ(module.Account, typ, payload.Space, payload.Local); h == nil {
			h = r.reg.LookupIQ(module.Server, typ, payload.Space, payload.Local)
		}
	case to.IsDomain():
		h = r.reg.LookupIQ(module.Server, typ, payload.Space, payload.Local)
	default:
		if ok, err := r.accountExists(ctx, to); err != nil {
			return err
		} else if !ok {
			return stanza.NewError(stanza.ServiceUnavailable)
		}
		h = r.reg.LookupIQ(module.Account, typ, payload.Space, payload.Local)
	}
	if h == nil {
		return stanza.NewError(stanza.ServiceUnavailable)
	}
	iq := stanza.IQ{El: el, ID: el.Attr("id"), Type: typ, From: from, To: to, Payload: payload}
	result, err := h(ctx, iq)
	if err != nil {
		var se *stanza.Error
		if errors.As(err, &se) {
			return se
		}
		r.log.Error("iq handler failed", "jid", from, "ns", payload.Space, "err", err)
		return stanza.NewError(stanza.InternalServerError)
	}
	r.Deliver(ctx, from, stanza.IQResult(el, result, to, from))
	return nil
}

// accountExists reports whether the local bare JID is an account: a user
// with a bound session is one (account removal closes the sessions), so
// only a user with none costs a UserExists call.
func (r *Router) accountExists(ctx context.Context, bare jid.JID) (bool, error) {
	if r.hasSession(bare) {
		return true, nil
	}
	return r.userExists(ctx, bare)
}

func (r *Router) userExists(ctx context.Context, bare jid.JID) (bool, error) {
	if r.UserExists == nil {
		return true, nil
	}
	ok, err := r.UserExists(ctx, bare)
	if err != nil {
		r.log.Error("user lookup failed", "jid", bare, "err", err)
		return false, stanza.NewError(stanza.InternalServerError)
	}
	return ok, nil
}

func countChildren(el *stanza.Element) int {
	n := 0
	for _, c := range el.Children {
		if c.El != nil {
			n++
		}
	}
	return n
}
