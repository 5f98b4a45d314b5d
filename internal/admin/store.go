package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/storage"
)

// Errors of the Store.
var (
	ErrNoToken  = errors.New("admin: no such token")
	ErrBadToken = errors.New("admin: invalid or revoked token")
)

// tokenPrefix starts every API token, so that one found in a log or a
// repository is recognised.
const tokenPrefix = "parley_"

// Token is a stored REST API token (its secret is never stored).
type Token struct {
	ID       string
	Name     string
	Created  time.Time
	LastUsed time.Time // zero: never
}

// AuditEntry is one administrative action.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // console user's bare JID or "token:<id>"
	Action string // e.g. "user.create"
	Target string
	Detail string
	Remote string // client address
}

// Store keeps API tokens (hashed) and the audit log (migration 00009),
// and the console's logins (00012, store_logins.go).
type Store struct {
	db *storage.DB
	q  struct {
		insToken, getHash, touch, list, del, insAudit, audit string
		login                                                loginQueries
	}
}

// NewStore returns the store over db.
func NewStore(db *storage.DB) *Store {
	s := &Store{db: db}
	r := db.Rebind
	s.q.insToken = r("INSERT INTO admin_tokens (id, name, hash, created_at, last_used) VALUES (?, ?, ?, ?, 0)")
	s.q.getHash = r("SELECT hash FROM admin_tokens WHERE id = ?")
	s.q.touch = r("UPDATE admin_tokens SET last_used = ? WHERE id = ?")
	s.q.list = r("SELECT id, name, created_at, last_used FROM admin_tokens ORDER BY created_at, id")
	s.q.del = r("DELETE FROM admin_tokens WHERE id = ?")
	s.q.insAudit = r("INSERT INTO admin_audit (at, actor, action, target, detail, remote) VALUES (?, ?, ?, ?, ?, ?)")
	s.q.audit = r("SELECT id, at, actor, action, target, detail, remote FROM admin_audit ORDER BY id DESC LIMIT ?")
	s.q.login = newLoginQueries(r)
	return s
}

// CreateToken stores a new token named name and returns it with its
// secret, "parley_<id>_<secret>": the only time the secret is known.
func (s *Store) CreateToken(ctx context.Context, name string) (Token, string, error) {
	if strings.TrimSpace(name) == "" {
		return Token{}, "", errors.New("admin: a token needs a name saying what it is for")
	}
	var idb [6]byte
	var secret [24]byte
	rand.Read(idb[:])
	rand.Read(secret[:])
	id := base64.RawURLEncoding.EncodeToString(idb[:])
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(sec))
	now := time.Now()
	if _, err := s.db.Exec(ctx, s.q.insToken, id, name, sum[:], now.UnixMilli()); err != nil {
		return Token{}, "", fmt.Errorf("admin: create token: %w", err)
	}
	return Token{ID: id, Name: name, Created: now}, tokenPrefix + id + "_" + sec, nil
}

// splitToken returns the id and secret of a token string.
func splitToken(tok string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", "", false
	}
	// The id is base64url of 6 bytes: 8 characters, which may contain '_'.
	if len(rest) < 10 || rest[8] != '_' {
		return "", "", false
	}
	return rest[:8], rest[9:], true
}

// CheckToken returns the id of tok when it is a stored token, and
// records its use; ErrBadToken otherwise.
func (s *Store) CheckToken(ctx context.Context, tok string) (string, error) {
	id, secret, ok := splitToken(tok)
	if !ok {
		return "", ErrBadToken
	}
	var hash []byte
	err := s.db.QueryRow(ctx, s.q.getHash, id).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrBadToken
	}
	if err != nil {
		return "", fmt.Errorf("admin: check token: %w", err)
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], hash) != 1 {
		return "", ErrBadToken
	}
	if _, err := s.db.Exec(ctx, s.q.touch, time.Now().UnixMilli(), id); err != nil {
		return "", fmt.Errorf("admin: check token: %w", err)
	}
	return id, nil
}

// Tokens lists the stored tokens, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.Query(ctx, s.q.list)
	if err != nil {
		return nil, fmt.Errorf("admin: list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created, used int64
		if err := rows.Scan(&t.ID, &t.Name, &created, &used); err != nil {
			return nil, fmt.Errorf("admin: list tokens: %w", err)
		}
		t.Created = time.UnixMilli(created)
		if used != 0 {
			t.LastUsed = time.UnixMilli(used)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admin: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken deletes a token; ErrNoToken when there is none with id.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	res, err := s.db.Exec(ctx, s.q.del, id)
	if err != nil {
		return fmt.Errorf("admin: revoke token %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("admin: revoke token %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("admin: revoke token %s: %w", id, ErrNoToken)
	}
	return nil
}

// Audit records an action.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if _, err := s.db.Exec(ctx, s.q.insAudit, e.At.UnixMilli(), e.Actor, e.Action, e.Target, e.Detail, e.Remote); err != nil {
		return fmt.Errorf("admin: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns the latest limit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.db.Query(ctx, s.q.audit, limit)
	if err != nil {
		return nil, fmt.Errorf("admin: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Remote); err != nil {
			return nil, fmt.Errorf("admin: audit log: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admin: audit log: %w", err)
	}
	return out, nil
}
