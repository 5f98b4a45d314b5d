// Package server wires Parley together: configuration → storage →
// certificates → router and modules → listeners, and takes them down in
// the reverse order. It is the only package that knows every other one.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/admin"
	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/mam"
	"github.com/parleyim/parley/internal/features/pushapp"
	"github.com/parleyim/parley/internal/features/upload"
	"github.com/parleyim/parley/internal/httpd"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/limits"
	"github.com/parleyim/parley/internal/memtrim"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/tlsutil"
)

// Server is a running Parley instance.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	db       *storage.DB
	accounts *account.Store
	certs    *tlsutil.Certs
	reg      *module.Registry
	router   *router.Router
	c2s      *c2s.Server
	limiter  *limits.IPLimiter
	adm      adminParts // admin.go
	started  time.Time
	mam      *mam.Module     // nil when mam.enabled is false
	upload   *upload.Service // nil when the upload service is off (upload.go)
	fed      federation      // s2s.go
	pushApp  *pushapp.Module // pushapp.go; nil when push.appserver.enabled is false
	pushErr  error           // why the app server could not start

	c2sLn, c2sTLSLn, adminLn net.Listener
	web                      *httpd.Server // the public HTTP server (http.go)
	adminSrv                 *http.Server
	cancel                   context.CancelFunc
	wg                       sync.WaitGroup
	stopOnce                 sync.Once
	stopErr                  error
}

// New builds a server from cfg: it opens storage (running migrations) and
// loads or creates certificates, but does not listen yet.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	db, err := storage.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("server: open storage: %w", err)
	}
	certs, err := tlsutil.Load(cfg.DataDir, cfg.Domains, cfg.TLS)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("server: certificates: %w", err)
	}
	s := &Server{
		cfg: cfg, log: log, db: db, certs: certs,
		accounts: account.NewStore(db, cfg.Auth.ScramIterations).UseHashes(account.HashesNamed(cfg.Auth.ScramHashes)...).
			CacheExistence(cfg.Storage.AccountCacheSize, cfg.Storage.AccountCacheTTL.D(), cfg.Storage.AccountNegativeTTL.D()),
		reg:     module.NewRegistry(),
		limiter: limits.NewIPLimiter(cfg.Limits),
	}
	s.router = router.New(log, s.reg, cfg.Domains)
	s.router.SetDedupeWindow(2 * cfg.SM.ResumeWindow.D()) // a client resends after its resume failed
	s.router.UserExists = func(ctx context.Context, bare jid.JID) (bool, error) {
		return s.accounts.Exists(ctx, bare)
	}
	if err := s.newUpload(); err != nil {
		db.Close()
		return nil, err
	}
	for _, m := range s.modules() {
		m.Register(s.reg)
	}
	if s.pushErr != nil {
		db.Close()
		return nil, fmt.Errorf("server: push app server: %w", s.pushErr)
	}
	s.started = time.Now()
	s.adm.console = s.newConsole()
	s.warnExposedAdmin()
	s.c2s = c2s.NewServer(c2s.Deps{
		Config: cfg, Router: s.router, Accounts: s.accounts, Certs: certs, Limiter: s.limiter, Log: log,
		Tokens: db.FastTokens(),
	})
	if err := s.newFederation(); err != nil {
		s.closePushApp()
		db.Close()
		return nil, err
	}
	return s, nil
}

// Router returns the router (for tests and tools).
func (s *Server) Router() *router.Router { return s.router }

// DB returns the storage (for tests and tools).
func (s *Server) DB() *storage.DB { return s.db }

// Accounts returns the account store.
func (s *Server) Accounts() *account.Store { return s.accounts }

// Start opens the listeners and begins serving.
func (s *Server) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	var err error
	if s.c2sLn, err = listen(s.cfg.C2S.Addr); err != nil {
		return s.startFailed(fmt.Errorf("server: c2s listener: %w", err))
	}
	if s.c2sTLSLn, err = listen(s.cfg.C2S.TLSAddr); err != nil {
		return s.startFailed(fmt.Errorf("server: c2s direct TLS listener: %w", err))
	}
	if s.adminLn, err = listen(s.cfg.Admin.Addr); err != nil {
		return s.startFailed(fmt.Errorf("server: admin listener: %w", err))
	}
	if err = s.listenHTTP(); err != nil {
		return s.startFailed(err)
	}
	s.serveC2S(ctx, s.c2sLn, false)
	s.serveC2S(ctx, s.c2sTLSLn, true)
	if err := s.startFederation(ctx); err != nil {
		return s.startFailed(err)
	}
	s.serveAdmin()
	s.goTracked(func() { s.adm.console.Run(ctx) })
	s.web.Serve(ctx)
	s.goTracked(func() { s.sweepLimits(ctx) })
	stamp := s.certStamp()
	s.goTracked(func() { s.watchCertificates(ctx, certWatchInterval, stamp) })
	s.goTracked(func() { memtrim.Run(ctx, s.cfg.Limits.MemoryTrimInterval.D(), s.log) })
	s.startMAM(ctx)
	s.startUpload(ctx)
	return nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	return net.Listen("tcp", addr)
}

func (s *Server) startFailed(err error) error {
	for _, ln := range []net.Listener{s.c2sLn, s.c2sTLSLn, s.adminLn} {
		if ln != nil {
			ln.Close()
		}
	}
	s.web.Close()
	s.cancel()
	s.db.Close()
	return err
}

func (s *Server) goTracked(f func()) {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
}

func (s *Server) serveC2S(ctx context.Context, ln net.Listener, directTLS bool) {
	if ln == nil {
		return
	}
	s.goTracked(func() {
		if err := s.c2s.Serve(ctx, ln, directTLS); err != nil {
			s.log.Error("c2s listener stopped", "addr", ln.Addr(), "err", err)
		}
	})
}

func (s *Server) serveAdmin() {
	if s.adminLn == nil {
		return
	}
	s.adminSrv = &http.Server{
		Handler:           admin.Protect(s.federationAdmin(s.adm.console.Handler())),
		ReadHeaderTimeout: 10 * time.Second,
	}
	s.goTracked(func() {
		if err := s.adminSrv.Serve(s.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin listener stopped", "err", err)
		}
	})
}

func (s *Server) health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.db.SQL().PingContext(ctx)
}

func (s *Server) sweepLimits(ctx context.Context) {
	tick(ctx, time.Minute, s.limiter.Sweep)
}

// Addr returns the bound address of a listener: "c2s", "c2s-tls",
// "admin", "http" or "http-tls" ("" when disabled). Tests listen on port 0 and ask here.
func (s *Server) Addr(name string) string {
	var ln net.Listener
	switch name {
	case "c2s":
		ln = s.c2sLn
	case "c2s-tls":
		ln = s.c2sTLSLn
	case "admin":
		ln = s.adminLn
	case "http", "http-tls":
		return s.web.Addr(name)
	default:
		ln = s.fed.listener(name)
	}
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Shutdown stops accepting, closes every stream with <system-shutdown/>,
// stops the admin server and closes storage. It is safe to call twice.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.shutdown(ctx) })
	return s.stopErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.cancel()
	s.c2s.Shutdown(ctx)
	s.stopFederation(ctx)
	var errs []error
	errs = append(errs, s.web.Shutdown(ctx))
	if s.adminSrv != nil {
		errs = append(errs, s.adminSrv.Shutdown(ctx))
	}
	s.wg.Wait()
	s.closePushApp()
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}
