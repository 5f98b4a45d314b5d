package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
)

// cookieName is the console's login cookie.
const cookieName = "parley_admin"

// login is one logged-in console user.
type login struct {
	user    jid.JID
	csrf    string
	expires time.Time
}

// logins are the console's logins, kept in the database (Store's
// *Login methods) so that they survive a restart; a login expires ttl
// after its last use.
type logins struct {
	ttl   time.Duration
	store *Store
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (l *logins) start(ctx context.Context, user jid.JID, now time.Time) (string, *login, error) {
	id, lg, err := l.store.CreateLogin(ctx, user, now, now.Add(l.ttl))
	if err != nil {
		return "", nil, err
	}
	return id, &login{user: lg.User, csrf: lg.CSRF, expires: lg.Expires}, nil
}

// get returns the login of the cookie value id, renewing it, or nil when
// there is none or it expired.
func (l *logins) get(ctx context.Context, id string, now time.Time) (*login, error) {
	lg, ok, err := l.store.UseLogin(ctx, id, now, now.Add(l.ttl))
	if !ok || err != nil {
		return nil, err
	}
	return &login{user: lg.User, csrf: lg.CSRF, expires: lg.Expires}, nil
}

func (l *logins) end(ctx context.Context, id string) error { return l.store.EndLogin(ctx, id) }

// endUser ends every login of user (its account was deleted or disabled).
func (l *logins) endUser(ctx context.Context, user jid.JID) error {
	_, err := l.store.EndLogins(ctx, user)
	return err
}

func (l *logins) sweep(ctx context.Context, now time.Time) error {
	_, err := l.store.SweepLogins(ctx, now)
	return err
}

// Errors of a console login, in words for the login page.
var (
	errBadLogin  = errors.New("That address and password do not match an administrator account.")
	errThrottled = errors.New("Too many failed logins. Wait a while and try again.")
	errDisabled  = errors.New("This account is disabled. Another administrator can enable it again.")
)

// checkLogin verifies user's password against the stored SCRAM keys: the
// same derivation as SASL PLAIN (package sasl), so no password is ever
// stored or compared in clear. Accounts that are not console users, and
// unknown accounts, cost the same work and fail alike.
func (c *Console) checkLogin(ctx context.Context, userStr, password string) (jid.JID, error) {
	user, err := jid.Parse(userStr)
	allowed := err == nil && user.IsBare() && c.consoleUser(user.String())
	var creds sasl.Credentials
	found := false
	if allowed {
		for _, h := range []sasl.Hash{sasl.SHA256, sasl.SHA512, sasl.SHA1} {
			cr, err := c.Accounts.Credentials(ctx, user, h)
			if errors.Is(err, account.ErrNotFound) {
				break
			}
			if errors.Is(err, account.ErrNoHash) {
				continue
			}
			if err != nil {
				return jid.JID{}, err
			}
			cr.Hash, creds, found = h, cr, true
			break
		}
	}
	if !found {
		creds = sasl.Credentials{Hash: sasl.SHA256, Salt: make([]byte, sasl.SaltLen), Iterations: sasl.DefaultIterations}
	}
	prepared, perr := sasl.PreparePassword(password)
	derived, derr := sasl.DeriveCredentials(creds.Hash, prepared, creds.Salt, creds.Iterations)
	if !found || perr != nil || derr != nil || subtle.ConstantTimeCompare(derived.StoredKey, creds.StoredKey) != 1 {
		return jid.JID{}, errBadLogin
	}
	// A disabled account (parley user disable, XEP-0133, the console)
	// cannot log in here either; said only to who knows the password.
	if dis, err := c.Accounts.Disabled(ctx, user); err != nil || dis {
		if err == nil {
			err = errDisabled
		}
		return jid.JID{}, err
	}
	return user, nil
}

// consoleUser reports whether the bare JID may log in: it is one of the
// server's admins or listed in admin.users.
func (c *Console) consoleUser(j string) bool {
	return slices.Contains(c.cfg.Users, j) || slices.Contains(c.Config.Admins, j)
}

// remoteIP is the client's address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// current returns the request's login, or nil.
func (c *Console) current(r *http.Request) (*login, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	return c.logins.get(r.Context(), ck.Value, c.now())
}

// authed wraps a console handler: without a login, GETs are sent to the
// login page and anything else gets 403; a POST must carry the login's
// CSRF token in the form field "csrf" (403 otherwise).
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *login)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lg, err := c.current(r)
		if err != nil {
			c.log.Error("console login check failed", "err", err)
			c.errorPage(w, r, nil, http.StatusInternalServerError, "The server could not check your login (see its log). Try again later.")
			return
		}
		if lg == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.errorPage(w, r, nil, http.StatusForbidden, "You are not logged in, or your login expired. Log in and try again.")
			return
		}
		if r.Method == http.MethodPost {
			tok := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(tok), []byte(lg.csrf)) != 1 {
				c.errorPage(w, r, lg, http.StatusForbidden, "This form has expired or did not come from this console. Go back, reload the page and try again.")
				return
			}
		}
		h(w, r, lg)
	}
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", nil, map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) loginPost(w http.ResponseWriter, r *http.Request) {
	now := c.now()
	ip, user, next := remoteIP(r), r.PostFormValue("user"), safeNext(r.PostFormValue("next"))
	fail := func(status int, err error) {
		c.render(w, r, status, "login", nil, map[string]any{"Error": err.Error(), "User": user, "Next": next})
	}
	if c.throttle.banned("ip:"+ip, now) || c.throttle.banned("user:"+user, now) {
		fail(http.StatusTooManyRequests, errThrottled)
		return
	}
	j, err := c.checkLogin(r.Context(), user, r.PostFormValue("password"))
	if err != nil {
		if errors.Is(err, errDisabled) {
			c.log.Warn("console login of a disabled account refused", "user", user, "remote", ip)
			fail(http.StatusForbidden, err)
			return
		}
		if !errors.Is(err, errBadLogin) {
			c.log.Error("console login failed", "user", user, "err", err)
			fail(http.StatusInternalServerError, errors.New("The server could not check the password (see its log). Try again later."))
			return
		}
		c.throttle.failed("ip:"+ip, now)
		c.throttle.failed("user:"+user, now)
		c.log.Warn("console login refused", "user", user, "remote", ip)
		fail(http.StatusUnauthorized, errBadLogin)
		return
	}
	id, _, err := c.logins.start(r.Context(), j, now)
	if err != nil {
		c.log.Error("console login failed", "user", user, "err", err)
		fail(http.StatusInternalServerError, errors.New("The server could not record the login (see its log). Try again later."))
		return
	}
	c.setCookie(w, r, id, 0)
	c.audit(r, j.String(), "console.login", j.String(), "")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, lg *login) {
	if ck, err := r.Cookie(cookieName); err == nil {
		if err := c.logins.end(r.Context(), ck.Value); err != nil {
			c.log.Error("console logout failed", "user", lg.user, "err", err)
			c.errorPage(w, r, lg, http.StatusInternalServerError, "The server could not end the login (see its log). Try again.")
			return
		}
	}
	c.setCookie(w, r, "", -1)
	c.audit(r, lg.user.String(), "console.logout", lg.user.String(), "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(s string) string {
	if len(s) < 1 || s[0] != '/' || (len(s) > 1 && (s[1] == '/' || s[1] == '\\')) {
		return "/"
	}
	return s
}

// CSRF is the login's form token (for templates).
func (l *login) CSRF() string {
	if l == nil {
		return ""
	}
	return l.csrf
}

// User is the logged-in administrator (for templates).
func (l *login) User() jid.JID { return l.user }
