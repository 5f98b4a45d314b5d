package pushapp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// maxSenderBytes bounds the last-message-sender passed on to a phone.
const maxSenderBytes = 3071 // a JID's longest form

// Route handles a stanza to the app server: disco#info, and the publish
// of a notification (XEP-0357 §7, XEP-0060 §7.1). It never blocks on a
// provider: a valid publish is queued and answered by a worker once the
// provider answered. Replies go out through Host.Deliver (the publish
// usually comes from the server itself, whose stanzas are not bounced).
func (m *Module) Route(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	typ := el.Attr("type")
	if el.Local != stanza.KindIQ || (typ != stanza.Get && typ != stanza.Set) {
		return nil // messages, presence, answers: nothing to do
	}
	res, err := m.iq(ctx, from, to, el)
	switch {
	case err != nil:
		var se *stanza.Error
		if !errors.As(err, &se) {
			m.cfg.Log.Error("pushapp: request failed", "from", from, "err", err)
			se = stanza.NewError(stanza.InternalServerError)
		}
		m.cfg.Host.Deliver(ctx, from, stanza.ErrorReply(el, se, to, from))
	case res != nil:
		m.cfg.Host.Deliver(ctx, from, res)
	}
	return nil
}

// iq answers a get or set: a reply to send now, or nil when a worker
// answers later.
func (m *Module) iq(ctx context.Context, from, to jid.JID, el *stanza.Element) (*stanza.Element, error) {
	p := el.FirstChild()
	switch {
	case !to.IsDomain() || p == nil:
		return nil, stanza.NewError(stanza.ServiceUnavailable)
	case p.Space == nsInfo && p.Local == "query" && el.Attr("type") == stanza.Get && p.Attr("node") == "":
		return stanza.IQResult(el, info(), to, from), nil
	case p.Space == nsPubSub && p.Local == "pubsub" && el.Attr("type") == stanza.Set && p.Child(nsPubSub, "publish") != nil:
		return nil, m.publish(ctx, from, to, el, p)
	}
	return nil, stanza.NewError(stanza.ServiceUnavailable)
}

// info is the app server's disco#info (XEP-0357 §4: identity pubsub/push).
func info() *stanza.Element {
	q := stanza.New(nsInfo, "query").Append(
		stanza.New(nsInfo, "identity").SetAttr("category", "pubsub").SetAttr("type", "push").SetAttr("name", "Parley push"))
	for _, f := range []string{nsInfo, NSPush, nsPubSub, nsPubSub + "#publish", nsPubSub + "#publish-options"} {
		q.Append(stanza.New(nsInfo, "feature").SetAttr("var", f))
	}
	return q
}

// publish checks a notification's node and secret and queues it for
// delivery. An unknown or disabled node is item-not-found and a wrong
// secret forbidden (both make the user's server disable the
// registration, XEP-0357 §8); a full queue is resource-constraint (wait).
func (m *Module) publish(ctx context.Context, from, to jid.JID, el, ps *stanza.Element) error {
	pub := ps.Child(nsPubSub, "publish")
	node := pub.Attr("node")
	if node == "" {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "publish needs a node")
	}
	d, found, err := m.devices.Get(ctx, node)
	if err != nil {
		return err
	}
	if !found || !d.Disabled.IsZero() {
		mDeliveries.WithLabelValues("none", "unknown-node").Inc()
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such push node")
	}
	secret := formValue(ps.Child(nsPubSub, "publish-options"), nsOptions, "secret")
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], d.SecretHash) != 1 {
		mDeliveries.WithLabelValues(d.Provider, "bad-secret").Inc()
		m.cfg.Log.Info("pushapp: publish with a wrong secret refused", "from", from, "node", node)
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "wrong publish-options secret")
	}
	if m.providers[d.Provider] == nil {
		return stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "%s is not configured on this app server", d.Provider)
	}
	j := job{device: d, summary: m.summary(pub), iq: el, from: to, to: from}
	select {
	case m.jobs <- j:
		return nil
	default:
		mDeliveries.WithLabelValues(d.Provider, "queue-full").Inc()
		return stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many notifications waiting")
	}
}

// summary reads the notification's summary form, keeping what the
// configuration lets through.
func (m *Module) summary(pub *stanza.Element) Summary {
	var form *stanza.Element
	if item := pub.Child(nsPubSub, "item"); item != nil {
		if n := item.Child(NSPush, "notification"); n != nil {
			form = n
		}
	}
	var s Summary
	if m.cfg.App.IncludeCount {
		s.MessageCount = formValue(form, NSSummary, "message-count")
	}
	if m.cfg.App.IncludeSender {
		if v := formValue(form, NSSummary, "last-message-sender"); len(v) <= maxSenderBytes {
			s.LastMessageSender = v
		}
	}
	return s
}

// formValue returns the first value of field v of the data form of type
// formType under parent (nil parent or no such form: "").
func formValue(parent *stanza.Element, formType, v string) string {
	if parent == nil {
		return ""
	}
	for _, x := range parent.ChildElements() {
		if x.Space != nsData || x.Local != "x" || fieldValue(x, "FORM_TYPE") != formType {
			continue
		}
		return fieldValue(x, v)
	}
	return ""
}

func fieldValue(x *stanza.Element, v string) string {
	for _, f := range x.ChildElements() {
		if f.Local == "field" && f.Attr("var") == v {
			return f.ChildText(nsData, "value")
		}
	}
	return ""
}
