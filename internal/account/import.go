package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
)

// ErrNoCredentials means CreateWithCredentials was given no usable
// credentials.
var ErrNoCredentials = errors.New("no usable SCRAM credentials")

// CreateWithCredentials adds the account j with SCRAM credentials derived
// elsewhere (an import from another server, XEP-0227), at most one per
// hash, in one transaction. The account can then log in only with the
// mechanisms whose hash it has (and PLAIN). It returns ErrExists if the
// account exists, ErrNoCredentials if creds is empty or has an unknown
// hash, mismatched key sizes or a non-positive iteration count.
func (s *Store) CreateWithCredentials(ctx context.Context, j jid.JID, creds []sasl.Credentials) error {
	if err := checkJID(j); err != nil {
		return fmt.Errorf("account: create %s: %w", j, err)
	}
	if err := checkCredentials(creds); err != nil {
		return fmt.Errorf("account: create %s: %w", j, err)
	}
	return s.insert(ctx, j, creds)
}

// insert adds the account j with creds in one transaction; ErrExists if
// it exists.
func (s *Store) insert(ctx context.Context, j jid.JID, creds []sasl.Credentials) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		found, err := exists(ctx, tx, s.q.exists, j)
		if err != nil {
			return err
		}
		if found {
			return ErrExists
		}
		if _, err := tx.ExecContext(ctx, s.q.insertAccount, j.Domain(), j.Local(), time.Now().Unix()); err != nil {
			return err
		}
		return s.putCredentials(ctx, tx, j, creds)
	})
	s.noteWrite(j, true, err, ErrExists)
	if err != nil {
		return fmt.Errorf("account: create %s: %w", j, err)
	}
	return nil
}

func checkCredentials(creds []sasl.Credentials) error {
	if len(creds) == 0 {
		return ErrNoCredentials
	}
	seen := map[sasl.Hash]bool{}
	for _, c := range creds {
		switch {
		case c.Hash.New() == nil:
			return fmt.Errorf("%w: unknown hash %q", ErrNoCredentials, c.Hash)
		case seen[c.Hash]:
			return fmt.Errorf("%w: two sets for %s", ErrNoCredentials, c.Hash)
		case c.Iterations <= 0 || len(c.Salt) == 0:
			return fmt.Errorf("%w: %s without salt or iteration count", ErrNoCredentials, c.Hash)
		case len(c.StoredKey) != c.Hash.Size() || len(c.ServerKey) != c.Hash.Size():
			return fmt.Errorf("%w: %s keys of %d and %d bytes, want %d", ErrNoCredentials, c.Hash, len(c.StoredKey), len(c.ServerKey), c.Hash.Size())
		}
		seen[c.Hash] = true
	}
	return nil
}

// AllCredentials returns the stored SCRAM credentials of j for every hash
// it has (for export), or ErrNotFound when there is no such account.
func (s *Store) AllCredentials(ctx context.Context, j jid.JID) ([]sasl.Credentials, error) {
	var out []sasl.Credentials
	for _, h := range sasl.Hashes {
		c, err := s.Credentials(ctx, j, h)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrNoHash):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		if ok, err := s.Exists(ctx, j); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("account: credentials of %s: %w", j, ErrNotFound)
		}
	}
	return out, nil
}
