package s2s

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// outStream is the one outbound stream of a domain pair. Its goroutine
// (run) connects, authenticates, then writes what Route queues until the
// stream is idle, closed or broken. Stanzas queued while it connects are
// bounced if it fails; stanzas still queued when an open stream breaks go
// to a new stream.
type outStream struct {
	srv   *Server
	p     pair
	since time.Time
	wake  chan struct{} // cap 1: something was queued
	quit  chan struct{} // closed by requestClose

	// mu guards the fields below.
	mu      sync.Mutex
	queue   []*stanza.Element
	dead    bool // removed from the pool: queue nothing more
	c       *dialed
	auth    string
	closing bool
}

// Route implements router.Remote: it queues el for the stream from el's
// sender's domain to to's domain, opening the stream if needed.
func (s *Server) Route(ctx context.Context, to jid.JID, el *stanza.Element) error {
	if !s.cfg.Enabled {
		return stanza.Errorf(stanza.Cancel, stanza.RemoteServerNotFound, "federation is disabled on this server")
	}
	local := domainOf(el.Attr("from"))
	if local == "" || !s.serves(local) {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a stanza to another server needs a 'from' on this server")
	}
	p := pair{local: local, remote: to.Domain()}
	for range 2 {
		o, err := s.stream(p)
		if err != nil {
			return err
		}
		if ok, err := o.enqueue(el); ok || err != nil {
			return err
		}
		// The stream died between the lookup and the queueing: a new one.
	}
	return stanza.Errorf(stanza.Wait, stanza.RemoteServerTimeout, "the stream to %s keeps closing", p.remote)
}

// stream returns the live stream of p, starting one if there is none.
func (s *Server) stream(p pair) (*outStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, stanza.Errorf(stanza.Wait, stanza.RemoteServerTimeout, "the server is shutting down")
	}
	if o := s.out[p]; o != nil {
		return o, nil
	}
	o := &outStream{srv: s, p: p, since: time.Now(), wake: make(chan struct{}, 1), quit: make(chan struct{})}
	s.out[p] = o
	s.wg.Add(1)
	go func() { defer s.wg.Done(); o.run() }()
	return o, nil
}

// remove takes o out of the pool (if it is still the stream of its pair)
// and marks it dead; it returns what was still queued.
func (s *Server) remove(o *outStream) []*stanza.Element {
	s.mu.Lock()
	if s.out[o.p] == o {
		delete(s.out, o.p)
	}
	s.mu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dead = true
	q := o.queue
	o.queue = nil
	return q
}

// enqueue adds el; false when the stream is dead (try another). Past
// queue_size the stanza is refused with resource-constraint.
func (o *outStream) enqueue(el *stanza.Element) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead {
		return false, nil
	}
	if len(o.queue) >= o.srv.cfg.QueueSize {
		bounces.WithLabelValues(stanza.ResourceConstraint).Inc()
		return true, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many stanzas waiting for %s", o.p.remote)
	}
	o.queue = append(o.queue, el)
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return true, nil
}

func (o *outStream) requestClose() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closing {
		o.closing = true
		close(o.quit)
	}
}

func (o *outStream) info() StreamInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := StreamInfo{Direction: "out", Local: o.p.local, Remote: o.p.remote, Auth: o.auth, Since: o.since, Queued: len(o.queue)}
	if o.c != nil {
		i.Addr, i.TLS = o.c.remoteAddr(), o.c.tls != nil
	}
	return i
}

// run is the stream's life: connect, then write until it ends.
func (o *outStream) run() {
	s := o.srv
	log := s.log.With("local", o.p.local, "remote", o.p.remote, "direction", "out")
	d, auth, err := o.connect()
	if err != nil {
		reason := stanza.RemoteServerNotFound
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			reason = stanza.RemoteServerTimeout
		}
		log.Info("s2s stream failed", "err", err, "bounce", reason)
		s.bounceAll(s.remove(o), stanza.Errorf(stanza.Cancel, reason, "cannot reach %s", o.p.remote), reason)
		return
	}
	o.mu.Lock()
	o.c, o.auth = d, auth
	o.mu.Unlock()
	log.Info("s2s stream up", "addr", d.remoteAddr(), "auth", auth, "tls", tlsVersion(d.tls))
	streams.WithLabelValues(o.p.remote, "out").Inc()
	defer streams.WithLabelValues(o.p.remote, "out").Dec()
	readerDone := make(chan error, 1)
	go func() { readerDone <- o.read(d) }()
	why := o.serve(d, readerDone)
	left := s.remove(o)
	log.Info("s2s stream closed", "why", why)
	d.writeString(stream.Close)
	select {
	case <-readerDone:
	case <-time.After(2 * time.Second):
	}
	d.close()
	// What was queued but never written goes out on a new stream.
	for _, el := range left {
		to, err := jid.Parse(el.Attr("to"))
		if err == nil {
			err = s.Route(s.ctx, to, el)
		}
		if err != nil {
			s.bounce(el, err)
		}
	}
}

// connect dials and authenticates within connect_timeout (or until
// shutdown).
func (o *outStream) connect() (*dialed, string, error) {
	s := o.srv
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ConnectTimeout.D())
	defer cancel()
	go func() {
		select {
		case <-o.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	d, err := s.dial(ctx, o.p.local, o.p.remote)
	if err != nil {
		return nil, "", err
	}
	stop := context.AfterFunc(ctx, d.interrupt)
	auth, err := s.authenticate(d)
	if !stop() || err != nil {
		d.close()
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("authenticating: %w", context.DeadlineExceeded)
		}
		return nil, "", err
	}
	d.setDeadline(time.Time{})
	return d, auth, nil
}

// serve writes queued stanzas until the stream is idle, closed, broken or
// the server stops; it returns why it ended.
func (o *outStream) serve(d *dialed, readerDone chan error) string {
	s := o.srv
	keep := time.NewTicker(s.cfg.KeepAlive.D())
	defer keep.Stop()
	idle := time.NewTimer(s.cfg.IdleTimeout.D())
	defer idle.Stop()
	lastWrite := time.Now()
	for {
		select {
		case <-o.wake:
			n, err := o.flush(d)
			if err != nil {
				return "write failed: " + err.Error()
			}
			if n > 0 {
				lastWrite = time.Now()
				idle.Reset(s.cfg.IdleTimeout.D())
			}
		case <-keep.C:
			if time.Since(lastWrite) >= s.cfg.KeepAlive.D() {
				if err := d.writeString(" "); err != nil { // XEP-0199 §4 white-space keepalive
					return "keepalive failed: " + err.Error()
				}
			}
		case <-idle.C:
			return "idle"
		case err := <-readerDone:
			readerDone <- err // for run's wait
			return "peer closed: " + fmt.Sprint(err)
		case <-o.quit:
			return "closed by request"
		case <-s.ctx.Done():
			o.flush(d) // what local sessions sent while closing (their unavailable presence)
			return "shutdown"
		}
	}
}

// flush writes everything queued in one write. Stanzas of a failed write
// are bounced: whether the peer got them is unknown.
func (o *outStream) flush(d *dialed) (int, error) {
	o.mu.Lock()
	batch := o.queue
	o.queue = nil
	o.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	var b []byte
	for _, el := range batch {
		b = appendStanza(b, el)
	}
	if err := d.write(b); err != nil {
		o.srv.bounceAll(batch, stanza.Errorf(stanza.Wait, stanza.RemoteServerTimeout, "the stream to %s broke", o.p.remote), stanza.RemoteServerTimeout)
		return 0, err
	}
	sent.Add(float64(len(batch)))
	return len(batch), nil
}

// read consumes what the peer sends on our outbound stream until it
// ends: white space, stream errors, and nothing else we use (a peer that
// sends stanzas here wants XEP-0288, which we do not offer).
func (o *outStream) read(d *dialed) error {
	for {
		el, err := d.next()
		if err != nil {
			return err
		}
		if el.Space == stream.NSStream && el.Local == "error" {
			return peerStreamError(el)
		}
		o.srv.log.Debug("ignored element on an outbound stream", "remote", o.p.remote, "name", el.Local, "ns", el.Space)
	}
}

// bounceAll bounces each stanza with err, counting the reason.
func (s *Server) bounceAll(els []*stanza.Element, err *stanza.Error, reason string) {
	for _, el := range els {
		if s.bounce(el, err) {
			bounces.WithLabelValues(reason).Inc()
		}
	}
}

// bounce sends the error reply of el to its sender, unless el is an
// error, an iq result, or a presence whose failure the sender does not
// wait for (RFC 6120 §8.3.1: never answer an error with an error). It
// reports whether a bounce was sent.
func (s *Server) bounce(el *stanza.Element, err error) bool {
	var se *stanza.Error
	if !errors.As(err, &se) {
		se = stanza.NewError(stanza.InternalServerError)
	}
	typ := el.Attr("type")
	switch el.Local {
	case stanza.KindIQ:
		if typ != stanza.Get && typ != stanza.Set {
			return false
		}
	case stanza.KindMessage:
		if typ == stanza.MsgError {
			return false
		}
	case stanza.KindPresence:
		if typ != "" && typ != "subscribe" {
			return false // unavailable, probes, subscription answers, errors
		}
	}
	from, ferr := jid.Parse(el.Attr("from"))
	to, terr := jid.Parse(el.Attr("to"))
	if ferr != nil || terr != nil || from.IsZero() {
		return false
	}
	s.router.Deliver(s.ctx, from, stanza.ErrorReply(el, se, to, from))
	return true
}
