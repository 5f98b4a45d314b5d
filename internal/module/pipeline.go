package module

import "context"

// Pipeline lets the session that sent a stanza keep reading while the
// stanza waits for something slow before it may go on, typically the
// archive's commit (XEP-0313: an archived message is durable before it is
// delivered or acknowledged). c2s gives each session one and puts it in
// the context of the stanzas the session sends; the router uses it for
// messages whose InboundMessage hooks set Event.Wait.
//
// The session runs deferred work in the order it was deferred, and counts
// a stanza as handled (XEP-0198 h) only once its work ran, so that a
// stream of messages shares the archive's group commits instead of
// waiting for one commit per message, and nothing is acknowledged or
// delivered before it is durable.
type Pipeline interface {
	// Busy reports whether deferred work is still pending: a stanza that
	// needs no waiting must then be deferred too, to keep the order.
	Busy() bool
	// Defer queues the rest of the current stanza's handling: wait (may
	// be nil) then, if wait returned nil, then. The error of either is
	// the stanza's outcome (a *stanza.Error bounces it to its sender).
	// Defer is called at most once per stanza, from the goroutine that
	// handles it. ctx is the context then runs in.
	Defer(wait func() error, then func(ctx context.Context) error)
}

type pipelineKey struct{}

// WithPipeline returns a context carrying p.
func WithPipeline(ctx context.Context, p Pipeline) context.Context {
	return context.WithValue(ctx, pipelineKey{}, p)
}

// PipelineFrom returns the pipeline in ctx, or nil: the stanza is then
// handled synchronously, waiting inline.
func PipelineFrom(ctx context.Context) Pipeline {
	p, _ := ctx.Value(pipelineKey{}).(Pipeline)
	return p
}

// RunHooksUntilWait runs the hooks of kind in order until one handles
// the event, fails, or sets ev.Wait; next is the index of the first hook
// not run, for RunHooksFrom once the wait is over.
func (r *Registry) RunHooksUntilWait(ctx context.Context, kind HookKind, ev *Event) (handled bool, next int, err error) {
	hs := r.tables().hooks[kind]
	for i, h := range hs {
		handled, err := h.fn(ctx, ev)
		if err != nil || handled {
			return handled, i + 1, err
		}
		if ev.Wait != nil {
			return false, i + 1, nil
		}
	}
	return false, len(hs), nil
}

// RunHooksFrom runs the hooks of kind from index next on, as RunHooks.
// The hook table is read again: a hook registered in between is run or
// skipped by its position.
func (r *Registry) RunHooksFrom(ctx context.Context, kind HookKind, ev *Event, next int) (bool, error) {
	hs := r.tables().hooks[kind]
	for _, h := range hs[min(next, len(hs)):] {
		handled, err := h.fn(ctx, ev)
		if err != nil || handled {
			return handled, err
		}
	}
	return false, nil
}
