package account

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/storage"
)

// Store manages accounts in a database. It is safe for concurrent use, and
// several Stores (in several processes) may share one database.
type Store struct {
	db         *storage.DB
	iterations int
	hashes     []sasl.Hash // derived for new passwords
	q          queries
	cache      *existsCache // nil: Exists always reads the database
}

type queries struct {
	exists, insertAccount, deleteAccount, upsertCreds, deleteCreds, credentials, listAll, listDomain string
	disabled, setDisabled                                                                            string
}

// NewStore returns a Store over db that derives new credentials with the
// given PBKDF2 iteration count (sasl.DefaultIterations when <= 0).
func NewStore(db *storage.DB, iterations int) *Store {
	if iterations <= 0 {
		iterations = sasl.DefaultIterations
	}
	return &Store{
		db:         db,
		iterations: iterations,
		hashes:     sasl.Hashes,
		q: queries{
			exists:        db.Rebind("SELECT 1 FROM accounts WHERE domain = ? AND username = ?"),
			insertAccount: db.Rebind("INSERT INTO accounts (domain, username, created_at) VALUES (?, ?, ?)"),
			deleteAccount: db.Rebind("DELETE FROM accounts WHERE domain = ? AND username = ?"),
			upsertCreds: db.Upsert("scram_credentials",
				[]string{"domain", "username", "hash"},
				[]string{"salt", "iterations", "stored_key", "server_key"}),
			deleteCreds: db.Rebind("DELETE FROM scram_credentials WHERE domain = ? AND username = ?"),
			credentials: db.Rebind("SELECT salt, iterations, stored_key, server_key FROM scram_credentials WHERE domain = ? AND username = ? AND hash = ?"),
			listAll:     db.Rebind("SELECT username, domain FROM accounts ORDER BY domain, username"),
			listDomain:  db.Rebind("SELECT username, domain FROM accounts WHERE domain = ? ORDER BY username"),
			disabled:    db.Rebind("SELECT disabled FROM accounts WHERE domain = ? AND username = ?"),
			setDisabled: db.Rebind("UPDATE accounts SET disabled = ? WHERE domain = ? AND username = ?"),
		},
	}
}

// UseHashes sets the SCRAM hashes whose keys Create and SetPassword derive
// and store (all of sasl.Hashes by default: one PBKDF2 run each). Call it
// before the Store is used; an empty list keeps the default. Accounts keep
// the credentials they have: one created with fewer hashes can log in only
// with the SCRAM mechanisms of its hashes (and PLAIN) until its password is
// set again.
func (s *Store) UseHashes(hs ...sasl.Hash) *Store {
	if len(hs) > 0 {
		s.hashes = slices.Clone(hs)
	}
	return s
}

// CacheExistence makes Exists remember its answers: at most size
// accounts, an existing one for positive, a missing one for negative (0
// does not remember that kind of answer). This Store's own Create,
// CreateWithCredentials and Delete keep the cache exact; an account
// created by another process over the same database is seen after at most
// negative, one deleted by another process after at most positive. Call it
// before the Store is used; size <= 0 leaves caching off.
func (s *Store) CacheExistence(size int, positive, negative time.Duration) *Store {
	if size > 0 {
		s.cache = newExistsCache(size, positive, negative)
	}
	return s
}

// HashesNamed returns the hashes of auth.scram_hashes (validated by
// config), strongest first; nil if a name is unknown, which UseHashes takes
// for the default.
func HashesNamed(names []string) []sasl.Hash {
	hs, err := sasl.ParseHashes(names)
	if err != nil {
		return nil
	}
	return hs
}

// Hashes returns the SCRAM hashes the Store derives keys for, strongest
// first as given to UseHashes; the caller must not modify the slice.
func (s *Store) Hashes() []sasl.Hash { return s.hashes }

// checkJID accepts only bare JIDs with a localpart.
func checkJID(j jid.JID) error {
	if j.IsZero() || j.Local() == "" || !j.IsBare() {
		return ErrInvalidJID
	}
	return nil
}

// derive prepares password and derives credentials for every configured
// hash (see UseHashes), each with its own fresh random salt. It runs before any
// transaction: PBKDF2 is slow and must not hold the database lock.
func (s *Store) derive(password string) ([]sasl.Credentials, error) {
	if password == "" {
		return nil, ErrWeakPassword
	}
	prepared, err := sasl.PreparePassword(password)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPassword, err)
	}
	out := make([]sasl.Credentials, 0, len(s.hashes))
	for _, h := range s.hashes {
		salt := make([]byte, sasl.SaltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("salt: %w", err)
		}
		c, err := sasl.DeriveCredentials(h, prepared, salt, s.iterations)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Store) putCredentials(ctx context.Context, tx *sql.Tx, j jid.JID, creds []sasl.Credentials) error {
	for _, c := range creds {
		if _, err := tx.ExecContext(ctx, s.q.upsertCreds, j.Domain(), j.Local(), string(c.Hash),
			c.Salt, c.Iterations, c.StoredKey, c.ServerKey); err != nil {
			return fmt.Errorf("store %s credentials: %w", c.Hash, err)
		}
	}
	return nil
}

func exists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, j jid.JID) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, j.Domain(), j.Local()).Scan(&one)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	}
	return false, err
}

// Create adds the account j (a bare JID with a localpart) with password,
// storing SCRAM credentials for the configured hashes (SHA-1, SHA-256 and
// SHA-512 unless UseHashes says otherwise), all in one transaction. It returns ErrExists if the account exists, ErrWeakPassword
// or ErrInvalidPassword for an unacceptable password, ErrInvalidJID for a
// JID that cannot be an account.
func (s *Store) Create(ctx context.Context, j jid.JID, password string) error {
	if err := checkJID(j); err != nil {
		return fmt.Errorf("account: create %s: %w", j, err)
	}
	creds, err := s.derive(password)
	if err != nil {
		return fmt.Errorf("account: create %s: %w", j, err)
	}
	return s.insert(ctx, j, creds)
}

// SetPassword replaces the credentials of j with ones derived from
// password (fresh salts, the Store's iteration count and hashes; stored
// credentials of other hashes are removed, as they were derived from the
// old password), and removes the account's XEP-0484 FAST tokens in the
// same transaction. It returns ErrNotFound if there is no such account.
func (s *Store) SetPassword(ctx context.Context, j jid.JID, password string) error {
	if err := checkJID(j); err != nil {
		return fmt.Errorf("account: set password of %s: %w", j, err)
	}
	creds, err := s.derive(password)
	if err != nil {
		return fmt.Errorf("account: set password of %s: %w", j, err)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		found, err := exists(ctx, tx, s.q.exists, j)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.q.deleteCreds, j.Domain(), j.Local()); err != nil {
			return err
		}
		// FAST tokens were granted on the old password: they go with it.
		if _, err := s.db.FastTokens().DeleteAllTx(ctx, tx, j); err != nil {
			return err
		}
		return s.putCredentials(ctx, tx, j, creds)
	})
	if err != nil {
		return fmt.Errorf("account: set password of %s: %w", j, err)
	}
	return nil
}

// Delete removes the account j and its credentials. It returns ErrNotFound
// if there is no such account.
func (s *Store) Delete(ctx context.Context, j jid.JID) error {
	if err := checkJID(j); err != nil {
		return fmt.Errorf("account: delete %s: %w", j, err)
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.deleteAccount, j.Domain(), j.Local())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return s.db.Archive().DeleteOwnerTx(ctx, tx, j.Bare())
	})
	s.noteWrite(j, false, err, ErrNotFound)
	if err != nil {
		return fmt.Errorf("account: delete %s: %w", j, err)
	}
	return nil
}

// noteWrite tells the cache the outcome of a write to j: after success, or
// the failure that says the same (ErrExists for a creation, ErrNotFound for
// a deletion), j exists (or not) as the write meant; after any other failure
// nothing is known.
func (s *Store) noteWrite(j jid.JID, exists bool, err, same error) {
	switch {
	case s.cache == nil:
	case err == nil || errors.Is(err, same):
		s.cache.wrote(j, exists)
	default:
		s.cache.forget(j)
	}
}

// Exists reports whether the account j exists.
func (s *Store) Exists(ctx context.Context, j jid.JID) (bool, error) {
	if err := checkJID(j); err != nil {
		return false, fmt.Errorf("account: exists %s: %w", j, err)
	}
	var gen uint64
	if s.cache != nil {
		var known, cached bool
		if known, cached, gen = s.cache.get(j); cached {
			return known, nil
		}
	}
	found, err := exists(ctx, dbRows{s.db}, s.q.exists, j)
	if err != nil {
		return false, fmt.Errorf("account: exists %s: %w", j, err)
	}
	if s.cache != nil {
		s.cache.put(j, found, gen)
	}
	return found, nil
}

// List returns the accounts of domain, or of every domain when domain is
// "", sorted by domain then localpart.
func (s *Store) List(ctx context.Context, domain string) ([]jid.JID, error) {
	var rows *sql.Rows
	var err error
	if domain == "" {
		rows, err = s.db.SQL().QueryContext(ctx, s.q.listAll)
	} else {
		d, jerr := jid.New("", domain, "")
		if jerr != nil {
			return nil, fmt.Errorf("account: list %s: %w", domain, jerr)
		}
		rows, err = s.db.SQL().QueryContext(ctx, s.q.listDomain, d.Domain())
	}
	if err != nil {
		return nil, fmt.Errorf("account: list %s: %w", domain, err)
	}
	defer rows.Close()
	var out []jid.JID
	for rows.Next() {
		var local, dom string
		if err := rows.Scan(&local, &dom); err != nil {
			return nil, fmt.Errorf("account: list %s: %w", domain, err)
		}
		j, err := jid.New(local, dom, "")
		if err != nil {
			return nil, fmt.Errorf("account: list %s: stored account %s@%s: %w", domain, local, dom, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: list %s: %w", domain, err)
	}
	return out, nil
}

// Credentials returns the stored SCRAM credentials of j for hash h. It
// returns ErrNotFound when there is no such account, and ErrNoHash when the
// account has no credentials for h.
func (s *Store) Credentials(ctx context.Context, j jid.JID, h sasl.Hash) (sasl.Credentials, error) {
	if err := checkJID(j); err != nil {
		return sasl.Credentials{}, fmt.Errorf("account: credentials of %s: %w", j, err)
	}
	if h.New() == nil {
		return sasl.Credentials{}, fmt.Errorf("account: credentials of %s: unknown hash %q", j, h)
	}
	c := sasl.Credentials{Hash: h}
	err := s.db.QueryRow(ctx, s.q.credentials, j.Domain(), j.Local(), string(h)).
		Scan(&c.Salt, &c.Iterations, &c.StoredKey, &c.ServerKey)
	if errors.Is(err, sql.ErrNoRows) {
		// Rare (a failed login): tell a missing account from a missing hash.
		missing := ErrNotFound
		if ok, err := exists(ctx, dbRows{s.db}, s.q.exists, j); err != nil {
			return sasl.Credentials{}, fmt.Errorf("account: credentials of %s: %w", j, err)
		} else if ok {
			missing = ErrNoHash
		}
		return sasl.Credentials{}, fmt.Errorf("account: credentials of %s for %s: %w", j, h, missing)
	}
	if err != nil {
		return sasl.Credentials{}, fmt.Errorf("account: credentials of %s: %w", j, err)
	}
	return c, nil
}

// dbRows gives the database's cached statements the shape of *sql.Tx's
// QueryRowContext, for helpers that run in and out of transactions.
type dbRows struct{ db *storage.DB }

func (d dbRows) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.db.QueryRow(ctx, query, args...)
}

// SetDisabled disables the account j (XEP-0133 §4.6: it cannot log in) or
// enables it again (§4.7). It returns ErrNotFound if there is no such
// account. Ending the sessions of a disabled account is the caller's part.
// Existence does not change, so the existence cache stays as it is.
func (s *Store) SetDisabled(ctx context.Context, j jid.JID, disabled bool) error {
	if err := checkJID(j); err != nil {
		return fmt.Errorf("account: set disabled of %s: %w", j, err)
	}
	v := 0
	if disabled {
		v = 1
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		found, err := exists(ctx, tx, s.q.exists, j)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.q.setDisabled, v, j.Domain(), j.Local())
		return err
	})
	if err != nil {
		return fmt.Errorf("account: set disabled of %s: %w", j, err)
	}
	return nil
}

// Disabled reports whether the account j is disabled. It returns
// ErrNotFound if there is no such account. It always reads the database:
// a disable by another process over the same database holds at once.
func (s *Store) Disabled(ctx context.Context, j jid.JID) (bool, error) {
	if err := checkJID(j); err != nil {
		return false, fmt.Errorf("account: disabled %s: %w", j, err)
	}
	var v int
	err := s.db.QueryRow(ctx, s.q.disabled, j.Domain(), j.Local()).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("account: disabled %s: %w", j, ErrNotFound)
	case err != nil:
		return false, fmt.Errorf("account: disabled %s: %w", j, err)
	}
	return v != 0, nil
}
