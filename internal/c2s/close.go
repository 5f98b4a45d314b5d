package c2s

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stream"
	"github.com/parleyim/parley/internal/xmlstream"
)

// This file holds how a session ends. One goroutine, the session's owner
// (the one running it, park.go), ends it; anyone else only asks:
//
//   - Close, from any goroutine (a conflicting bind, an account removal, a
//     slow consumer's delivery, shutdown), records the first reason and
//     wakes the owner: a parked session is run, a blocked read returns.
//     It never writes and never waits, so a caller is never held by the
//     peer of the session it closes.
//   - The owner then ends the session state at once (unbind, SessionClosed
//     hooks, cancelling the session's context), writes the stream error
//     and the closing tag through the output queue (after what was already
//     queued, within c2s.write_timeout), gives the peer a short grace
//     period to close its side, and closes the connection.

// closeGrace is how long the owner waits, after its closing tag, for the
// peer to close its side (RFC 6120 §4.4) before closing the socket.
const closeGrace = 2 * time.Second

// errClosing is what the reader and the handler return once the session
// is asked to close: the owner stops reading and ends it.
var errClosing = errors.New("c2s: session closing")

// closeRequest is why a session ends. err is the stream error to send (nil
// for a closing tag alone); silent means nothing can or may be written.
type closeRequest struct {
	err    *stream.Error
	silent bool
}

// Close implements router.Session and module.Conn: it asks the session to
// end with the stream error cond ("" for a closing tag alone) and returns
// at once. The first request wins.
func (s *Session) Close(cond, text string) {
	req := &closeRequest{}
	if cond != "" {
		req.err = stream.New(cond, text)
	}
	if tr := s.request(req); tr != nil {
		tr.Wake()
	}
}

// abort ends the session without a stream error: the connection is broken
// (a failed write) or shutdown ran out of time. It also closes the socket,
// so that nothing the owner does can block on it.
func (s *Session) abort() {
	s.request(&closeRequest{silent: true})
	tr := s.transport()
	tr.Close()
	tr.Wake()
}

// transport reads the session's transport from any goroutine (a resumed
// session changes it, resume.go).
func (s *Session) transport() transport {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	return s.tr
}

// request records req if it is the first, and returns the transport to
// wake if it was (nil otherwise). A Close that finds only a silent request
// (the transport failing) is kept for stream management, which must then
// end the session rather than hibernate it (resume.go).
func (s *Session) request(req *closeRequest) transport {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closeReq != nil {
		if s.closeReq.silent && !req.silent && s.sm != nil && s.sm.endReq == nil {
			s.sm.endReq = req
		}
		return nil
	}
	s.closeReq = req
	s.closing.Store(true)
	s.out.stop()
	return s.tr
}

func (s *Session) closeRequest() *closeRequest {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	return s.closeReq
}

// reasonFor turns the error that stopped the owner into a close request,
// unless one was made already.
func (s *Session) reasonFor(err error) *closeRequest {
	if req := s.closeRequest(); req != nil {
		return req // asked to close: err is how the owner stopped for it
	}
	var se *stream.Error
	req := &closeRequest{}
	switch {
	case errors.Is(err, xmlstream.ErrStreamClosed):
		// The peer closed its stream: answer with ours.
	case errors.As(err, &se):
		req.err = se
	case isTimeout(err):
		req.err = stream.New(stream.ConnectionTimeout, "")
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		req.silent = true // the peer went away; nothing can be sent
	default:
		s.srv.log.Debug("connection error", "peer", s.addr, "stream_id", s.id, "jid", s.fullStr, "err", err)
		req.silent = true
	}
	s.request(req)
	return s.closeRequest()
}

// stop ends the session after the owner stopped running it with err. It
// reports true when the session hibernated instead (XEP-0198 resumption,
// resume.go): it lives on without this transport.
func (s *Session) stop(err error) (kept bool) {
	if s.pl != nil {
		s.pl.Drain() // deferred stanzas are finished (and counted) first
	}
	req := s.reasonFor(err)
	if s.smHibernate(err, req) {
		return true
	}
	s.endSession()
	s.ctx.cancel()
	if !req.silent && s.tr.Writable() {
		s.sendClose(req.err)
		if !errors.Is(err, xmlstream.ErrStreamClosed) {
			s.drain()
		}
	}
	s.tr.Close()
	return false
}

// endSession ends the session's state where it changes, once: a bound
// session leaves the router, and the SessionClosed hooks run.
func (s *Session) endSession() {
	if s.state != stateBound {
		return
	}
	s.srv.router.Unbind(s)
	mSessions.Dec()
	ctx := context.WithoutCancel(&s.ctx)
	s.smEnd(ctx) // unacknowledged stanzas are routed again before the unavailable presence
	ev := &module.Event{From: s.full, Session: s.full, Conn: s}
	if err := s.srv.router.Registry().Notify(ctx, module.SessionClosed, ev); err != nil {
		s.srv.log.Warn("session-closed hooks failed", "jid", s.fullStr, "err", err)
	}
}

// sendClose writes the stream error (if any) and our closing tag after
// what is already queued, and waits until they are written or the write
// timeout ends the connection.
func (s *Session) sendClose(e *stream.Error) {
	var b []byte
	if !s.headerOut.Load() {
		b = s.tr.AppendOpen(b, stream.Header{ContentNS: stream.NSClient, ID: s.id})
	}
	if e != nil {
		b = e.AppendXML(b)
		s.logStreamError(e)
	}
	b = s.tr.AppendClose(b)
	if done := s.out.final(b); done != nil {
		<-done
	}
}

// logStreamError records a stream error we send: logged once with who and
// which stream, and counted by condition.
// Routine ends (shutdown, an idle timeout) are logged at debug level, the
// others, which say something about the client, at info.
func (s *Session) logStreamError(e *stream.Error) {
	mStreamErrors.WithLabelValues(e.Condition).Inc()
	level := slog.LevelInfo
	if e.Condition == stream.SystemShutdown || e.Condition == stream.ConnectionTimeout {
		level = slog.LevelDebug
	}
	s.srv.log.Log(&s.ctx, level, "stream error sent", "peer", s.addr, "stream_id", s.id, "jid", s.fullStr,
		"condition", e.Condition, "text", e.Text)
}

// drain reads what the peer still sends after our closing tag until it
// closes its side or the grace period ends.
func (s *Session) drain() {
	s.tr.Finish(closeGrace)
	for {
		if _, err := s.tr.Next(); err != nil {
			return
		}
	}
}
