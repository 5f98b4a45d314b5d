package s2s

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/tlsutil"
	"github.com/parleyim/parley/internal/xmlstream"
)

// Deps is what the s2s server needs.
type Deps struct {
	Config config.Config
	Router *router.Router
	Certs  *tlsutil.Certs
	Log    *slog.Logger
	// Resolver answers SRV lookups; nil uses the system's.
	Resolver Resolver
}

// Server is federation: the outbound pool (a router.Remote), the inbound
// listeners and the component listener.
type Server struct {
	cfg       config.S2S
	router    *router.Router
	certs     *tlsutil.Certs
	log       *slog.Logger
	res       atomic.Pointer[Resolver]
	trust     *trust
	secret    string
	tlsServer *tls.Config
	lim       xmlstream.Limits

	ctx    context.Context // the server's lifetime; outbound streams run in it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards everything below.
	mu         sync.Mutex
	out        map[pair]*outStream
	in         map[*inbound]struct{}
	perIP      map[string]int
	components map[string]*component
	closed     bool
}

// pair names an outbound stream: from a local domain to a remote one.
type pair struct{ local, remote string }

// New returns the s2s server. It registers every configured component
// domain as a router service.
func New(d Deps) (*Server, error) {
	tr, err := newTrust(d.Config.S2S.CAFile)
	if err != nil {
		return nil, err
	}
	secret := d.Config.S2S.DialbackSecret
	if secret == "" {
		var b [32]byte
		rand.Read(b[:])
		secret = hex.EncodeToString(b[:])
	}
	l := d.Config.Limits
	s := &Server{
		cfg: d.Config.S2S, router: d.Router, certs: d.Certs, log: d.Log.With("component", "s2s"),
		trust: tr, secret: secret, tlsServer: serverTLS(d.Certs),
		lim: xmlstream.Limits{MaxElementBytes: l.MaxStanzaBytes, MaxDepth: l.MaxDepth, MaxAttrs: l.MaxAttrs, MaxMemory: l.MaxStanzaMemory},
		out: map[pair]*outStream{}, in: map[*inbound]struct{}{}, perIP: map[string]int{},
		components: map[string]*component{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.SetResolver(d.Resolver)
	for dom, secret := range d.Config.Components.Secrets {
		c := &component{srv: s, domain: dom, secret: secret}
		s.components[dom] = c
		d.Router.AddService(dom, c)
	}
	return s, nil
}

// SetResolver replaces the SRV resolver (nil: the system's), for a
// resolver of the operator's choice or a test's.
func (s *Server) SetResolver(r Resolver) {
	if r == nil {
		r = net.DefaultResolver
	}
	s.res.Store(&r)
}

func (s *Server) resolver() Resolver { return *s.res.Load() }

// serves reports whether domain is ours: a user domain or a service
// domain (group chat, components), which remote servers may address.
func (s *Server) serves(domain string) bool {
	return s.router.IsLocal(domain) || s.router.ServiceFor(domain) != nil
}

// Serve accepts inbound server streams on ln until ctx ends; directTLS
// listeners run TLS from the first byte (XEP-0368).
func (s *Server) Serve(ctx context.Context, ln net.Listener, directTLS bool) error {
	return s.accept(ctx, ln, func(c net.Conn) { s.serveInbound(c, directTLS) })
}

// ServeComponents accepts XEP-0114 component streams on ln until ctx ends.
func (s *Server) ServeComponents(ctx context.Context, ln net.Listener) error {
	return s.accept(ctx, ln, s.serveComponent)
}

func (s *Server) accept(ctx context.Context, ln net.Listener, serve func(net.Conn)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	delay := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				time.Sleep(delay)
				delay = min(2*delay, time.Second)
				continue
			}
			return fmt.Errorf("s2s: accept: %w", err)
		}
		delay = 5 * time.Millisecond
		if !s.track() {
			c.Close()
			return nil
		}
		go func() { defer s.wg.Done(); serve(c) }()
	}
}

// track counts a goroutine the shutdown waits for; false once shut down.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// StreamInfo describes one stream for operators (`parley s2s list`).
type StreamInfo struct {
	Direction string    `json:"direction"` // "out" or "in"
	Local     string    `json:"local"`     // our domain
	Remote    string    `json:"remote"`    // the peer's domain (inbound: each authenticated one)
	Auth      string    `json:"auth"`      // "sasl-external", "dialback" or "" (not yet)
	Addr      string    `json:"addr"`      // the peer's address
	TLS       bool      `json:"tls"`
	Since     time.Time `json:"since"`
	Queued    int       `json:"queued,omitempty"`
}

// Streams lists the streams, outbound first, by domain.
func (s *Server) Streams() []StreamInfo {
	s.mu.Lock()
	outs := make([]*outStream, 0, len(s.out))
	for _, o := range s.out {
		outs = append(outs, o)
	}
	ins := make([]*inbound, 0, len(s.in))
	for i := range s.in {
		ins = append(ins, i)
	}
	s.mu.Unlock()
	var list []StreamInfo
	for _, o := range outs {
		list = append(list, o.info())
	}
	for _, i := range ins {
		list = append(list, i.info()...)
	}
	sort.Slice(list, func(a, b int) bool {
		x, y := list[a], list[b]
		if x.Direction != y.Direction {
			return x.Direction == "out"
		}
		return x.Remote+" "+x.Local < y.Remote+" "+y.Local
	})
	return list
}

// CloseDomain closes every stream to and from the remote domain and
// returns how many it closed. Stanzas queued on an outbound stream are
// sent on a new one.
func (s *Server) CloseDomain(domain string) int {
	domain = strings.ToLower(domain)
	s.mu.Lock()
	var outs []*outStream
	for p, o := range s.out {
		if p.remote == domain {
			outs = append(outs, o)
		}
	}
	var ins []*inbound
	for i := range s.in {
		if i.authenticated(domain) {
			ins = append(ins, i)
		}
	}
	s.mu.Unlock()
	for _, o := range outs {
		o.requestClose()
	}
	for _, i := range ins {
		i.requestClose()
	}
	return len(outs) + len(ins)
}

// Shutdown closes every stream (outbound with a closing tag, inbound and
// components with system-shutdown) and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("s2s shutdown timed out")
	}
}

// domainOf returns the domain of a JID string, or "".
func domainOf(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return ""
	}
	return j.Domain()
}
