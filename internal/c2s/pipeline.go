package c2s

import (
	"context"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// This file holds the session's stanza pipeline (module.Pipeline): the
// reading goroutine hands a message that waits for the archive's commit
// to the pipeline and goes on reading, so that one busy stream puts many
// messages into each group commit instead of one. The rest of each
// stanza's handling (delivery, carbons, the error reply) and its XEP-0198
// count (inH) happen on the pipeline's goroutine, in the order the
// stanzas came: nothing is delivered or acknowledged before its wait (the
// commit) is over, and a stanza that needs no wait is queued behind the
// pending ones while there are any, so that the order per sender is kept.
// The goroutine exists only while work is pending.

// maxPipeline bounds the stanzas of a session waiting in its pipeline:
// past it the reader waits (the client's TCP window then fills).
const maxPipeline = 256

// pipeline is a session's ordered queue of deferred stanza work.
type pipeline struct {
	*module.StanzaPipeline
	s     *Session
	route func(context.Context, *stanza.Element) error // s.routeStanza, bound once

	// The pipeline goroutine's.
	scope module.Scope
	ctx   context.Context // its context: without cancel, with scope, no pipeline
}

// pipe returns the session's pipeline, made on first use.
func (s *Session) pipe(ctx context.Context) *pipeline {
	if s.pl == nil {
		p := &pipeline{s: s, route: s.routeStanza}
		p.StanzaPipeline = module.NewStanzaPipeline(ctx, maxPipeline, p.finish)
		p.ctx = module.WithScope(context.WithoutCancel(&s.ctx), &p.scope)
		s.pl = p
	}
	return s.pl
}

// releaseIdlePipeline drops the session's pipeline when nothing is queued
// or running in it, before the session parks: an idle session then holds
// none (about 380 bytes with its contexts); its next stanza makes a new
// one. Only the owner uses s.pl.
func (s *Session) releaseIdlePipeline() {
	if p := s.pl; p != nil && p.Idle() {
		s.pl = nil
	}
}

// finish ends one stanza's handling: its wait, the rest of its handling,
// the error reply if it failed, and its count.
func (p *pipeline) finish(it module.PipelineItem) {
	s := p.s
	if it.Nonza != nil {
		if err := it.Nonza(); err != nil {
			s.srv.log.Debug("deferred nonza failed", "jid", s.fullStr, "err", err)
		}
		return
	}
	var err error
	if it.Wait != nil {
		err = it.Wait()
	}
	if err == nil && it.Then != nil {
		err = it.Then(p.ctx)
	}
	p.scope.Run()
	if aerr := s.answer(it.El, err); aerr != nil {
		s.srv.log.Debug("error reply not queued", "jid", s.fullStr, "err", aerr)
	}
	s.smHandled()
}
