package s2s

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// This file holds an inbound stream's stanza pipeline (module.Pipeline),
// as c2s gives each session: a message that waits for the archive's
// commit is finished (delivered, or bounced when the commit failed) on
// the pipeline's goroutine while the stream's reader goes on, so that one
// busy stream from another server puts many messages into each group
// commit instead of one. A stanza that needs no wait queues behind the
// pending ones while there are any, so that the order per stream is kept.

// maxPipeline bounds the stanzas of a stream waiting in its pipeline:
// past it the reader waits (the peer's TCP window then fills).
const maxPipeline = 256

// inPipeline is an inbound stream's ordered queue of deferred stanza work.
type inPipeline struct {
	in *inbound
	*module.PipelineQueue[inItem]

	// The reader's (the stream owner's).
	el       *stanza.Element // the stanza being routed
	deferred bool            // Defer was called for el
	msgCtx   context.Context // the server's context with the pipeline, for messages

	ctx context.Context // the pipeline goroutine's: no pipeline, not cancelled
}

type inItem struct {
	el   *stanza.Element
	wait func() error
	then func(context.Context) error
}

// pipe returns the stream's pipeline, made on first use (owner only).
func (in *inbound) pipe() *inPipeline {
	if in.pl == nil {
		p := &inPipeline{in: in}
		p.PipelineQueue = module.NewPipelineQueue(maxPipeline, p.finish)
		p.msgCtx = module.WithPipeline(in.srv.ctx, p)
		p.ctx = context.WithoutCancel(in.srv.ctx)
		in.pl = p
	}
	return in.pl
}

// Defer implements module.Pipeline for the stanza being routed.
func (p *inPipeline) Defer(wait func() error, then func(context.Context) error) {
	p.deferred = true
	p.Push(inItem{el: p.el, wait: wait, then: then})
}

// finish ends one stanza's handling: its wait, the rest of its routing,
// and the bounce if it failed.
func (p *inPipeline) finish(it inItem) {
	var err error
	if it.wait != nil {
		err = it.wait()
	}
	if err == nil && it.then != nil {
		err = it.then(p.ctx)
	}
	if err != nil {
		p.in.srv.bounce(it.el, err)
	}
}

// route hands a checked stanza from the peer to the router, through the
// stream's pipeline.
func (in *inbound) route(from jid.JID, el *stanza.Element) {
	s := in.srv
	p := in.pipe()
	p.Room()
	if el.Local != stanza.KindMessage && p.Busy() {
		p.Push(inItem{el: el, then: func(ctx context.Context) error { return s.router.Route(ctx, from, el) }})
		return
	}
	ctx := s.ctx
	if el.Local == stanza.KindMessage {
		ctx = p.msgCtx
	}
	p.el, p.deferred = el, false
	err := s.router.Route(ctx, from, el)
	p.el = nil
	switch {
	case p.deferred: // the pipeline finishes it
		return
	case p.Busy(): // its outcome goes out behind the pending stanzas
		p.Push(inItem{el: el, then: func(context.Context) error { return err }})
		return
	}
	if err != nil {
		s.bounce(el, err)
	}
}

// drainPipeline waits until every deferred stanza was finished, when the
// stream ends.
func (in *inbound) drainPipeline() {
	if in.pl != nil {
		in.pl.Drain()
	}
}
