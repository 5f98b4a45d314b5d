package module

import "context"

// Scope collects work to do once the stanza being handled is finished:
// routed, and any reply to it queued. c2s gives each session one Scope,
// puts it in the context of every stanza the session sends and runs it
// after each one.
type Scope struct {
	after []func()
}

type scopeKey struct{}

// WithScope returns a context carrying sc.
func WithScope(ctx context.Context, sc *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// AfterReply arranges for fn to run once the stanza being handled in ctx
// is finished, after its reply was queued: an account removal (XEP-0077
// §3.2) answers the iq and only then closes the user's sessions. Call it
// synchronously from a handler or hook. Without a Scope in ctx (a stanza
// that did not come from a client), fn runs at once.
func AfterReply(ctx context.Context, fn func()) {
	sc, _ := ctx.Value(scopeKey{}).(*Scope)
	if sc == nil {
		fn()
		return
	}
	sc.after = append(sc.after, fn)
}

// Run runs the collected functions in order and forgets them.
func (sc *Scope) Run() {
	if len(sc.after) == 0 {
		return
	}
	fs := sc.after
	sc.after = nil
	for _, f := range fs {
		f()
	}
}
