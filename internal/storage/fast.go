package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// FastToken is one stored XEP-0484 FAST token: never the token itself,
// only Key, its hash (sasl.HTKey).
type FastToken struct {
	Key       []byte
	Agent     string // the XEP-0388 user-agent id it was issued to
	Mechanism string // the HT mechanism it is bound to
	Created   time.Time
	Expires   time.Time
	LastCount int64 // highest count accepted, -1 before the first
	Uses      int64 // logins with it
}

// MaxFastAgentBytes is the longest user-agent id a token can be bound to.
const MaxFastAgentBytes = 256

// FastTokens stores FAST tokens per account and user agent: each agent
// holds the token it uses and, while a rotation is in flight, the new one
// it has not used yet (XEP-0484 §"Server-side handling of multiple active
// tokens").
type FastTokens struct {
	db *DB
	q  struct{ insert, purge, owner, list, use, useNoCount, older, del, delAll string }
}

// FastTokens returns the FAST token store.
func (db *DB) FastTokens() *FastTokens {
	f := &FastTokens{db: db}
	f.q.insert = db.Rebind("INSERT INTO fast_tokens (key_hash, domain, username, agent, mechanism, created_at, expires_at, last_count, uses) VALUES (?, ?, ?, ?, ?, ?, ?, -1, 0)")
	// Expired tokens, and unused ones of the agent a new one replaces.
	f.q.purge = db.Rebind("DELETE FROM fast_tokens WHERE domain = ? AND username = ? AND (expires_at <= ? OR (agent = ? AND uses = 0))")
	f.q.owner = db.Rebind("SELECT key_hash FROM fast_tokens WHERE domain = ? AND username = ? ORDER BY created_at DESC, key_hash")
	f.q.list = db.Rebind("SELECT key_hash, agent, mechanism, created_at, expires_at, last_count, uses FROM fast_tokens WHERE domain = ? AND username = ? AND agent = ? ORDER BY created_at DESC, key_hash")
	f.q.use = db.Rebind("UPDATE fast_tokens SET last_count = ?, uses = uses + 1 WHERE key_hash = ? AND domain = ? AND username = ? AND expires_at > ? AND last_count < ?")
	f.q.useNoCount = db.Rebind("UPDATE fast_tokens SET uses = uses + 1 WHERE key_hash = ? AND domain = ? AND username = ? AND expires_at > ?")
	f.q.older = db.Rebind("DELETE FROM fast_tokens WHERE domain = ? AND username = ? AND agent = ? AND expires_at < ?")
	f.q.del = db.Rebind("DELETE FROM fast_tokens WHERE key_hash = ? AND domain = ? AND username = ?")
	f.q.delAll = db.Rebind("DELETE FROM fast_tokens WHERE domain = ? AND username = ?")
	return f
}

func checkAgent(agent string) error {
	if agent == "" || len(agent) > MaxFastAgentBytes {
		return fmt.Errorf("storage: user-agent id of %d bytes (1 to %d)", len(agent), MaxFastAgentBytes)
	}
	return nil
}

// Issue stores t for user, in one transaction: it first removes user's
// expired tokens and the tokens of t.Agent that were never used (a new
// token supersedes them), then, past max tokens for the account, the
// oldest (of any agent).
func (f *FastTokens) Issue(ctx context.Context, user jid.JID, t FastToken, max int) error {
	if err := checkOwner(user); err != nil {
		return err
	}
	if err := checkAgent(t.Agent); err != nil {
		return err
	}
	err := f.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := f.db.lockOwner(ctx, tx, user.Domain(), user.Local()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, f.q.purge, user.Domain(), user.Local(), time.Now().UnixMilli(), t.Agent); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, f.q.insert, t.Key, user.Domain(), user.Local(), t.Agent, t.Mechanism,
			t.Created.UnixMilli(), t.Expires.UnixMilli()); err != nil {
			return err
		}
		return f.evict(ctx, tx, user, max)
	})
	if err != nil {
		return fmt.Errorf("storage: issue FAST token for %s: %w", user, err)
	}
	return nil
}

// evict removes user's oldest tokens beyond max.
func (f *FastTokens) evict(ctx context.Context, tx *sql.Tx, user jid.JID, max int) error {
	if max <= 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, f.q.owner, user.Domain(), user.Local())
	if err != nil {
		return err
	}
	var extra [][]byte
	for n := 0; rows.Next(); n++ {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		if n >= max {
			extra = append(extra, k)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, k := range extra {
		if _, err := tx.ExecContext(ctx, f.q.del, k, user.Domain(), user.Local()); err != nil {
			return err
		}
	}
	return nil
}

// Candidates returns the tokens of user's agent, newest first, expired
// ones included (the caller tells an expired token from a wrong one).
func (f *FastTokens) Candidates(ctx context.Context, user jid.JID, agent string) ([]FastToken, error) {
	if err := checkOwner(user); err != nil {
		return nil, err
	}
	rows, err := f.db.Query(ctx, f.q.list, user.Domain(), user.Local(), agent)
	if err != nil {
		return nil, fmt.Errorf("storage: FAST tokens of %s: %w", user, err)
	}
	defer rows.Close()
	var out []FastToken
	for rows.Next() {
		var t FastToken
		var created, expires int64
		if err := rows.Scan(&t.Key, &t.Agent, &t.Mechanism, &created, &expires, &t.LastCount, &t.Uses); err != nil {
			return nil, fmt.Errorf("storage: FAST tokens of %s: %w", user, err)
		}
		t.Created, t.Expires = time.UnixMilli(created), time.UnixMilli(expires)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: FAST tokens of %s: %w", user, err)
	}
	return out, nil
}

// Use records a login with t (as Candidates returned it) at count (< 0:
// the client sent none) and reports whether it was accepted: false when
// the token is gone or expired, or when count is not above the last one
// accepted (a replay). Both are decided in one conditional update, so two
// logins racing with the same count cannot both succeed. An accepted use
// invalidates the agent's tokens that expire before t (XEP-0484 §4.4: the
// client has its newer token).
func (f *FastTokens) Use(ctx context.Context, user jid.JID, t FastToken, count int64) (bool, error) {
	if err := checkOwner(user); err != nil {
		return false, err
	}
	ok := false
	err := f.db.InTx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		var res sql.Result
		var err error
		if count < 0 {
			res, err = tx.ExecContext(ctx, f.q.useNoCount, t.Key, user.Domain(), user.Local(), now)
		} else {
			res, err = tx.ExecContext(ctx, f.q.use, count, t.Key, user.Domain(), user.Local(), now, count)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if ok = n == 1; !ok {
			return nil
		}
		_, err = tx.ExecContext(ctx, f.q.older, user.Domain(), user.Local(), t.Agent, t.Expires.UnixMilli())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: use FAST token of %s: %w", user, err)
	}
	return ok, nil
}

// Delete removes the token with key of user; it reports whether it existed.
func (f *FastTokens) Delete(ctx context.Context, user jid.JID, key []byte) (bool, error) {
	if err := checkOwner(user); err != nil {
		return false, err
	}
	res, err := f.db.Exec(ctx, f.q.del, key, user.Domain(), user.Local())
	if err != nil {
		return false, fmt.Errorf("storage: delete FAST token of %s: %w", user, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteAllTx removes every token of user within tx (a password change
// runs it in its own transaction) and returns how many there were.
func (f *FastTokens) DeleteAllTx(ctx context.Context, tx *sql.Tx, user jid.JID) (int, error) {
	res, err := tx.ExecContext(ctx, f.q.delAll, user.Domain(), user.Local())
	if err != nil {
		return 0, fmt.Errorf("storage: delete FAST tokens of %s: %w", user, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
