package admin

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Deps is what the console and the API need; internal/server fills it.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *storage.DB
	Accounts *account.Store
	Sessions Sessions
	Health   Health
	Groups   SharedGroups // nil: shared groups not available
	Rosters  Rosters      // nil: rosters not shown
	Rooms    Rooms        // nil: group chat disabled
	Keys     Keys         // nil: no PEP store in this build
	Uploads  Uploads      // nil: file upload off
	Started  time.Time
}

// Console is the admin surface: console, REST API, metrics and health.
type Console struct {
	Deps
	cfg      config.Admin
	log      *slog.Logger
	store    *Store
	logins   *logins
	throttle *throttle
	stats    *sampler
	tmpl     map[string]*template.Template
	clock    atomic.Pointer[func() time.Time] // time.Now; tests set another
	handler  http.Handler
}

// New returns the console over d.
func New(d Deps) *Console {
	c := &Console{
		Deps: d, cfg: d.Config.Admin, log: d.Log.With("component", "admin"),
		store:    NewStore(d.DB),
		throttle: newThrottle(d.Config.Admin.LoginFailures, d.Config.Admin.LoginWindow.D(), d.Config.Admin.LoginBan.D()),
	}
	c.logins = &logins{ttl: d.Config.Admin.SessionTTL.D(), store: c.store}
	now := time.Now
	c.clock.Store(&now)
	if c.Started.IsZero() {
		c.Started = time.Now()
	}
	c.stats = newSampler(d.Config.Admin.SampleInterval.D(), c.snapshot)
	c.tmpl = parseTemplates()
	c.handler = c.routes()
	return c
}

func (c *Console) now() time.Time { return (*c.clock.Load())() }

// Handler returns the whole admin surface.
func (c *Console) Handler() http.Handler { return c.handler }

// Run samples the dashboard's figures and forgets expired logins until ctx
// ends.
func (c *Console) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.SampleInterval.D())
	defer t.Stop()
	c.stats.sample(c.now())
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := c.now()
			c.stats.sample(now)
			if err := c.logins.sweep(ctx, now); err != nil {
				c.log.Warn("forgetting expired console logins failed", "err", err)
			}
			c.throttle.sweep(now)
		}
	}
}

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	base := Handler(c.Health, c.cfg.Pprof)
	mux.Handle("GET /metrics", base)
	mux.Handle("GET /healthz", base)
	if c.cfg.Pprof {
		mux.Handle("/debug/pprof/", base)
	}
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.loginPost)
	mux.HandleFunc("POST /logout", c.authed(c.logout))
	mux.HandleFunc("GET /{$}", c.authed(c.dashboard))
	mux.HandleFunc("GET /live", c.authed(c.live))
	mux.HandleFunc("GET /users", c.authed(c.usersPage))
	mux.HandleFunc("POST /users", c.authed(c.userCreate))
	mux.HandleFunc("GET /user", c.authed(c.userPage))
	mux.HandleFunc("POST /user/delete", c.authed(c.userDelete))
	mux.HandleFunc("POST /user/password", c.authed(c.userPassword))
	mux.HandleFunc("POST /user/kick", c.authed(c.userKick))
	mux.HandleFunc("POST /user/disable", c.authed(c.userDisable(true)))
	mux.HandleFunc("POST /user/enable", c.authed(c.userDisable(false)))
	mux.HandleFunc("GET /groups", c.authed(c.groupsPage))
	mux.HandleFunc("POST /groups", c.authed(c.groupCreate))
	mux.HandleFunc("POST /groups/delete", c.authed(c.groupDelete))
	mux.HandleFunc("POST /groups/rename", c.authed(c.groupRename))
	mux.HandleFunc("POST /groups/members", c.authed(c.groupAddMembers))
	mux.HandleFunc("POST /groups/members/remove", c.authed(c.groupRemoveMember))
	mux.HandleFunc("GET /sessions", c.authed(c.sessionsPage))
	mux.HandleFunc("POST /sessions/kick", c.authed(c.sessionKick))
	mux.HandleFunc("GET /rooms", c.authed(c.roomsPage))
	mux.HandleFunc("POST /rooms", c.authed(c.roomCreate))
	mux.HandleFunc("GET /room", c.authed(c.roomPage))
	mux.HandleFunc("POST /room/configure", c.authed(c.roomConfigure))
	mux.HandleFunc("POST /room/destroy", c.authed(c.roomDestroy))
	mux.HandleFunc("GET /uploads", c.authed(c.uploadsPage))
	mux.HandleFunc("GET /config", c.authed(c.configPage))
	mux.HandleFunc("GET /audit", c.authed(c.auditPage))
	c.apiRoutes(mux)
	return Protect(secureHeaders(mux))
}

// Protect is what every handler on the admin listener goes through: no
// CORS (noCORS) and no cross-origin form posts (http.CrossOriginProtection),
// so that a page elsewhere cannot use an administrator's browser against
// it. internal/server wraps the whole listener's handler in it.
func Protect(h http.Handler) http.Handler {
	return noCORS(http.NewCrossOriginProtection().Handler(h))
}

// secureHeaders sets headers that keep the console out of frames and
// scripts of other origins.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// noCORS answers no CORS: a preflight (OPTIONS) gets 405 and no
// Access-Control-* header, so browsers on other origins can neither read
// answers nor send non-simple requests (the API's Authorization header).
func noCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, HEAD, POST, PUT, DELETE")
			http.Error(w, "the admin surface does not answer cross-origin requests", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// audit records an action; a failure to record is logged, not shown.
func (c *Console) audit(r *http.Request, actor, action, target, detail string) {
	e := AuditEntry{At: c.now(), Actor: actor, Action: action, Target: target, Detail: detail, Remote: remoteIP(r)}
	if err := c.store.Audit(context.WithoutCancel(r.Context()), e); err != nil {
		c.log.Error("audit log write failed", "action", action, "err", err)
	}
	c.log.Info("admin action", "actor", actor, "action", action, "target", target)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// Store returns the token and audit store.
func (c *Console) Store() *Store { return c.store }
