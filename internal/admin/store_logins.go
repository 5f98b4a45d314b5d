package admin

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// Login is a console login as stored (migration 00012): the cookie's
// value is known only to the browser; the table holds its SHA-256 hash.
type Login struct {
	User    jid.JID
	CSRF    string // this login's form token
	Expires time.Time
}

type loginQueries struct{ ins, get, renew, del, delUser, sweep string }

func newLoginQueries(r func(string) string) loginQueries {
	return loginQueries{
		ins:     r("INSERT INTO admin_sessions (id_hash, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"),
		get:     r("SELECT username, csrf, expires_at FROM admin_sessions WHERE id_hash = ?"),
		renew:   r("UPDATE admin_sessions SET expires_at = ? WHERE id_hash = ?"),
		del:     r("DELETE FROM admin_sessions WHERE id_hash = ?"),
		delUser: r("DELETE FROM admin_sessions WHERE username = ?"),
		sweep:   r("DELETE FROM admin_sessions WHERE expires_at <= ?"),
	}
}

func loginHash(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// CreateLogin stores a new console login of user valid until expires and
// returns its cookie value (random, 256 bits) and CSRF token.
func (s *Store) CreateLogin(ctx context.Context, user jid.JID, now, expires time.Time) (id string, lg Login, err error) {
	id = randomToken()
	lg = Login{User: user, CSRF: randomToken(), Expires: expires}
	if _, err := s.db.Exec(ctx, s.q.login.ins, loginHash(id), user.String(), lg.CSRF, now.UnixMilli(), expires.UnixMilli()); err != nil {
		return "", Login{}, fmt.Errorf("admin: create login of %s: %w", user, err)
	}
	return id, lg, nil
}

// UseLogin returns the login of the cookie value id and moves its expiry
// to renew (when that is a second or more later than stored), or ok false when there is none or it had expired at now (an
// expired one is deleted).
func (s *Store) UseLogin(ctx context.Context, id string, now, renew time.Time) (lg Login, ok bool, err error) {
	h := loginHash(id)
	var user string
	var exp int64
	err = s.db.QueryRow(ctx, s.q.login.get, h).Scan(&user, &lg.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Login{}, false, nil
	}
	if err != nil {
		return Login{}, false, fmt.Errorf("admin: read login: %w", err)
	}
	if exp <= now.UnixMilli() {
		if _, err := s.db.Exec(ctx, s.q.login.del, h); err != nil {
			return Login{}, false, fmt.Errorf("admin: end expired login: %w", err)
		}
		return Login{}, false, nil
	}
	if lg.User, err = jid.Parse(user); err != nil {
		return Login{}, false, fmt.Errorf("admin: stored login of %q: %w", user, err)
	}
	lg.Expires = time.UnixMilli(exp)
	if renew.Sub(lg.Expires) >= time.Second { // at most one write a second per login
		if _, err := s.db.Exec(ctx, s.q.login.renew, renew.UnixMilli(), h); err != nil {
			return Login{}, false, fmt.Errorf("admin: renew login: %w", err)
		}
		lg.Expires = renew
	}
	return lg, true, nil
}

// EndLogin deletes the login of the cookie value id (logout).
func (s *Store) EndLogin(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, s.q.login.del, loginHash(id)); err != nil {
		return fmt.Errorf("admin: end login: %w", err)
	}
	return nil
}

// EndLogins deletes every login of user (its account was deleted or
// disabled) and says how many there were.
func (s *Store) EndLogins(ctx context.Context, user jid.JID) (int64, error) {
	return s.execCount(ctx, "end logins of "+user.String(), s.q.login.delUser, user.String())
}

// SweepLogins deletes the logins expired at now.
func (s *Store) SweepLogins(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, "sweep logins", s.q.login.sweep, now.UnixMilli())
}

func (s *Store) execCount(ctx context.Context, what, q string, args ...any) (int64, error) {
	res, err := s.db.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("admin: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("admin: %s: %w", what, err)
	}
	return n, nil
}
