package s2s

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// component is an external component's domain (XEP-0114): a router
// Service from startup, forwarding to the connected component, if any.
type component struct {
	srv    *Server
	domain string
	secret string

	mu sync.Mutex
	c  *conn // the connected component, or nil
}

// Route implements router.Service: the stanza goes to the component;
// while none is connected the sender gets service-unavailable.
func (c *component) Route(_ context.Context, _, _ jid.JID, el *stanza.Element) error {
	c.mu.Lock()
	cn := c.c
	c.mu.Unlock()
	if cn == nil {
		return stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "the component %s is not connected", c.domain)
	}
	if err := cn.write(appendStanza(nil, el)); err != nil {
		cn.interrupt()
		return stanza.Errorf(stanza.Wait, stanza.RemoteServerTimeout, "the component %s is not reading", c.domain)
	}
	return nil
}

// serveComponent runs one component connection: the handshake of
// XEP-0114 §3, then stanzas both ways until either side closes.
func (s *Server) serveComponent(nc net.Conn) {
	cn := newConn(nc, s.lim, s.cfg.ConnectTimeout.D())
	cn.setDeadline(time.Now().Add(s.cfg.ConnectTimeout.D()))
	stop := context.AfterFunc(s.ctx, cn.interrupt)
	defer stop()
	comp, err := s.componentHandshake(cn)
	if err == nil {
		defer comp.detach(cn)
		cn.setDeadline(time.Time{})
		err = comp.read(cn)
	}
	var se *stream.Error
	switch {
	case errors.As(err, &se):
	case cn.closing.Load():
		se = stream.New(stream.SystemShutdown, "")
	}
	if se != nil {
		streamErrors.WithLabelValues(se.Condition).Inc()
		s.log.Info("component stream error sent", "peer", nc.RemoteAddr(), "condition", se.Condition, "text", se.Text)
		cn.fail(se)
		return
	}
	cn.writeString(stream.Close)
	cn.close()
}

// componentHandshake reads the header, answers it and checks the
// handshake; it returns the component now attached to cn.
func (s *Server) componentHandshake(cn *conn) (*component, error) {
	h, _, err := cn.readHeader(stream.NSComponent, nil)
	id := stream.NewID()
	if err != nil {
		var se *stream.Error
		if errors.As(err, &se) {
			cn.write(stream.Header{ContentNS: stream.NSComponent, ID: id}.AppendXML(nil))
		}
		return nil, err
	}
	comp := s.components[h.To]
	if comp == nil {
		cn.write(stream.Header{ContentNS: stream.NSComponent, ID: id}.AppendXML(nil))
		return nil, stream.New(stream.HostUnknown, "no component is configured for "+h.To)
	}
	if err := cn.write(stream.Header{ContentNS: stream.NSComponent, ID: id, From: comp.domain}.AppendXML(nil)); err != nil {
		return nil, err
	}
	el, err := cn.next()
	if err != nil {
		return nil, err
	}
	if el.Space != stream.NSComponent || el.Local != "handshake" {
		return nil, stream.New(stream.NotAuthorized, "the handshake must come first")
	}
	want := ComponentHandshake(id, comp.secret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(el.Text())) != 1 {
		return nil, stream.New(stream.NotAuthorized, "wrong handshake (secret)")
	}
	comp.mu.Lock()
	busy := comp.c != nil
	if !busy {
		comp.c = cn
	}
	comp.mu.Unlock()
	if busy {
		return nil, stream.New(stream.Conflict, "the component "+comp.domain+" is already connected")
	}
	if err := cn.writeString("<handshake/>"); err != nil {
		comp.detach(cn)
		return nil, err
	}
	streams.WithLabelValues(comp.domain, "component").Inc()
	s.log.Info("component connected", "domain", comp.domain, "peer", cn.remoteAddr())
	return comp, nil
}

func (c *component) detach(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == cn {
		c.c = nil
		streams.WithLabelValues(c.domain, "component").Dec()
		c.srv.log.Info("component disconnected", "domain", c.domain)
	}
}

// read routes the component's stanzas: 'from' must be on its domain
// (else invalid-from), and a missing 'to' is refused (improper-addressing).
func (c *component) read(cn *conn) error {
	s := c.srv
	for {
		el, err := cn.next()
		if err != nil {
			if cn.closing.Load() {
				return errClosing
			}
			if isClosed(err) {
				return nil
			}
			return err
		}
		if !isStanzaIn(el, stream.NSComponent) {
			return stream.New(stream.UnsupportedStanzaType, "unexpected <"+el.Local+"/> in "+el.Space)
		}
		from, err := jid.Parse(el.Attr("from"))
		if err != nil || from.Domain() != c.domain {
			return stream.New(stream.InvalidFrom, "a component may only send from "+c.domain)
		}
		if _, err := jid.Parse(el.Attr("to")); err != nil || el.Attr("to") == "" {
			return stream.New(stream.ImproperAddressing, "a stanza from a component needs a valid 'to'")
		}
		toClient(el, stream.NSComponent)
		if err := s.router.Route(s.ctx, from, el); err != nil {
			s.bounce(el, err)
		}
	}
}
