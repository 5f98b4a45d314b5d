package s2s

import (
	"context"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// This file holds an inbound stream's stanza pipeline (module.StanzaPipeline),
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
	*module.StanzaPipeline
	in  *inbound
	ctx context.Context // the pipeline goroutine's: no pipeline, not cancelled
}

// pipe returns the stream's pipeline, made on first use (owner only).
func (in *inbound) pipe() *inPipeline {
	if in.pl == nil {
		p := &inPipeline{in: in, ctx: context.WithoutCancel(in.srv.ctx)}
		p.StanzaPipeline = module.NewStanzaPipeline(in.srv.ctx, maxPipeline, p.finish)
		in.pl = p
	}
	return in.pl
}

// finish ends one stanza's handling: its wait, the rest of its routing,
// and the bounce if it failed.
func (p *inPipeline) finish(it module.PipelineItem) {
	var err error
	if it.Wait != nil {
		err = it.Wait()
	}
	if err == nil && it.Then != nil {
		err = it.Then(p.ctx)
	}
	if err != nil {
		p.in.srv.bounce(it.El, err)
	}
}

// route hands a checked stanza from the peer to the router, through the
// stream's pipeline.
func (in *inbound) route(from jid.JID, el *stanza.Element) {
	s := in.srv
	now, err := in.pipe().Handle(s.ctx, el, func(ctx context.Context, el *stanza.Element) error { return s.router.Route(ctx, from, el) })
	if now && err != nil {
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
