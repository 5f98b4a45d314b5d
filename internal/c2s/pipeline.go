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
	s *Session
	*module.PipelineQueue[pipeItem]

	// The reader's (the session owner's).
	el       *stanza.Element // the stanza being handled
	deferred bool            // Defer was called for el
	msgCtx   context.Context // the reader's context with the pipeline, for messages

	// The pipeline goroutine's.
	scope module.Scope
	ctx   context.Context // its context: without cancel, with scope, no pipeline
}

type pipeItem struct {
	// nonza, when set, is all the item does (an <r/> answered in order).
	nonza func() error
	el    *stanza.Element
	wait  func() error
	then  func(context.Context) error
}

// pipe returns the session's pipeline, made on first use.
func (s *Session) pipe(ctx context.Context) *pipeline {
	if s.pl == nil {
		p := &pipeline{s: s}
		p.PipelineQueue = module.NewPipelineQueue(maxPipeline, p.finish)
		p.msgCtx = module.WithPipeline(ctx, p)
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

// Defer implements module.Pipeline for the stanza being handled.
func (p *pipeline) Defer(wait func() error, then func(context.Context) error) {
	p.deferred = true
	p.Push(pipeItem{el: p.el, wait: wait, then: then})
}

// finish ends one stanza's handling: its wait, the rest of its handling,
// the error reply if it failed, and its count.
func (p *pipeline) finish(it pipeItem) {
	s := p.s
	if it.nonza != nil {
		if err := it.nonza(); err != nil {
			s.srv.log.Debug("deferred nonza failed", "jid", s.fullStr, "err", err)
		}
		return
	}
	var err error
	if it.wait != nil {
		err = it.wait()
	}
	if err == nil && it.then != nil {
		err = it.then(p.ctx)
	}
	p.scope.Run()
	if aerr := s.answer(it.el, err); aerr != nil {
		s.srv.log.Debug("error reply not queued", "jid", s.fullStr, "err", aerr)
	}
	s.smHandled()
}
