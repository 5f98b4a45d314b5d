package httpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/tlsutil"
)

// Paths served.
const (
	PathWebSocket    = "/xmpp-websocket"
	PathBOSH         = "/http-bind"
	PathHostMeta     = "/.well-known/host-meta"
	PathHostMetaJSON = "/.well-known/host-meta.json"
	PathUpload       = "/upload/"
)

// Deps are what the HTTP server needs from the rest of the server.
type Deps struct {
	Config config.Config
	C2S    *c2s.Server
	BOSH   *c2s.BOSH
	Certs  *tlsutil.Certs
	Log    *slog.Logger
	// Upload, when set, serves PathUpload (XEP-0363 file upload; the
	// handler does its own CORS: its URLs are capabilities).
	Upload http.Handler
}

// Server is the public HTTP server.
type Server struct {
	cfg     config.HTTP
	c2s     *c2s.Server
	bosh    *c2s.BOSH
	certs   *tlsutil.Certs
	upload  http.Handler
	log     *slog.Logger
	trusted []netip.Prefix
	anyOrig bool
	origins map[string]bool

	plain, secure net.Listener
	srv           *http.Server
	wg            sync.WaitGroup
}

// New returns the HTTP server; Listen binds its listeners.
func New(d Deps) *Server {
	s := &Server{cfg: d.Config.HTTP, c2s: d.C2S, bosh: d.BOSH, certs: d.Certs, upload: d.Upload,
		log: d.Log.With("component", "http"), origins: map[string]bool{}}
	for _, p := range d.Config.Limits.TrustedProxies {
		if pfx, err := config.ParsePrefix(p); err == nil {
			s.trusted = append(s.trusted, pfx)
		}
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" {
			s.anyOrig = true
		}
		s.origins[strings.TrimSuffix(strings.ToLower(o), "/")] = true
	}
	return s
}

// Listen binds http.addr and http.tls_addr (either may be disabled).
func (s *Server) Listen() error {
	var err error
	if s.cfg.Addr != "" {
		if s.plain, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return fmt.Errorf("http listener: %w", err)
		}
	}
	if s.cfg.TLSAddr != "" {
		ln, err := net.Listen("tcp", s.cfg.TLSAddr)
		if err != nil {
			s.Close()
			return fmt.Errorf("https listener: %w", err)
		}
		cfg := s.certs.TLSConfig().Clone()
		cfg.NextProtos = []string{"http/1.1"} // WebSocket upgrades need HTTP/1.1
		s.secure = tls.NewListener(ln, cfg)
	}
	return nil
}

// Close closes the listeners without serving (a start that failed).
func (s *Server) Close() {
	if s == nil {
		return
	}
	for _, ln := range []net.Listener{s.plain, s.secure} {
		if ln != nil {
			ln.Close()
		}
	}
}

// Serve serves the bound listeners; requests' contexts carry ctx's values.
func (s *Server) Serve(ctx context.Context) {
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Requests end with their client, not with the server: a held BOSH
		// request is answered when shutdown closes its session.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	for _, ln := range []net.Listener{s.plain, s.secure} {
		if ln == nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http listener stopped", "addr", ln.Addr(), "err", err)
			}
		}()
	}
}

// Addr is the bound address of "http" or "http-tls" ("" when disabled).
func (s *Server) Addr(name string) string {
	if s == nil {
		return ""
	}
	ln := s.plain
	if name == "http-tls" {
		ln = s.secure
	}
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Shutdown stops accepting and waits for requests in progress (a BOSH
// request is answered when its session closes: c2s shuts them down first).
func (s *Server) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if s.srv == nil {
		s.Close()
		return nil
	}
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}

// Handler routes the public paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathWebSocket, s.cors(http.HandlerFunc(s.webSocket)))
	mux.Handle(PathBOSH, s.cors(http.HandlerFunc(s.httpBind)))
	mux.Handle(PathBOSH+"/", s.cors(http.HandlerFunc(s.httpBind)))
	mux.Handle(PathHostMeta, anyOrigin(http.HandlerFunc(s.hostMeta)))
	mux.Handle(PathHostMetaJSON, anyOrigin(http.HandlerFunc(s.hostMetaJSON)))
	if s.upload != nil {
		mux.Handle(PathUpload, s.upload)
	}
	return mux
}

func (s *Server) webSocket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, OPTIONS")
		http.Error(w, "XMPP over WebSocket: open a WebSocket (GET with Upgrade: websocket)", http.StatusMethodNotAllowed)
		return
	}
	s.c2s.ServeWebSocket(w, r, s.peer(r))
}

func (s *Server) httpBind(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "BOSH (XEP-0124): POST a <body/> element", http.StatusMethodNotAllowed)
		return
	}
	s.bosh.ServeBOSH(w, r, s.peer(r))
}

// peer is who the client of r is. Behind a trusted proxy it is the last
// address of X-Forwarded-For (the one the proxy added), and the plain
// connection is trusted like TLS (the proxy terminates TLS); from
// loopback it is trusted too.
func (s *Server) peer(r *http.Request) c2s.Peer {
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	p := c2s.Peer{Addr: ap.Addr().Unmap(), TLS: r.TLS}
	if s.fromProxy(p.Addr) {
		p.Trusted = true
		if a, ok := forwardedFor(r); ok {
			p.Addr = a
		}
		return p
	}
	p.Trusted = p.Addr.IsLoopback()
	return p
}

func (s *Server) fromProxy(a netip.Addr) bool {
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor is the last address of X-Forwarded-For.
func forwardedFor(r *http.Request) (netip.Addr, bool) {
	vs := r.Header.Values("X-Forwarded-For")
	if len(vs) == 0 {
		return netip.Addr{}, false
	}
	last := vs[len(vs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	a, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// secureRequest reports whether the client reached us over TLS: directly,
// or through a trusted proxy that says so (X-Forwarded-Proto).
func (s *Server) secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	return s.fromProxy(ap.Addr().Unmap()) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
