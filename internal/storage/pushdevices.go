package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
)

// PushDevice is one device registered with the built-in XEP-0357 app
// server (package pushapp): the pubsub node notifications are published
// to, the account that owns it, and where the provider delivers.
type PushDevice struct {
	Node       string
	Owner      jid.JID // bare
	Provider   string  // "apns" or "fcm"
	Token      string  // the provider's device token
	Topic      string  // APNs topic (bundle id); "" for FCM
	Sandbox    bool    // APNs development environment
	SecretHash []byte  // SHA-256 of the publish-options secret
	Created    time.Time
	Disabled   time.Time // zero while enabled
}

// Limits of the columns (the MySQL schema's sizes).
const (
	MaxPushNodeBytes  = 64
	MaxPushTokenBytes = 4096
	MaxPushTopicBytes = 255
)

// PushDevices stores the app server's device registrations.
type PushDevices struct {
	db *DB
	q  struct{ insert, count, get, list, disable, del, delOwned string }
}

const pushDeviceCols = "node, domain, username, provider, token, topic, sandbox, secret_hash, created_at, disabled_at"

// PushDevices returns the device registration store.
func (db *DB) PushDevices() *PushDevices {
	p := &PushDevices{db: db}
	p.q.insert = db.Rebind("INSERT INTO push_devices (" + pushDeviceCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	p.q.count = db.Rebind("SELECT COUNT(*) FROM push_devices WHERE domain = ? AND username = ?")
	p.q.get = db.Rebind("SELECT " + pushDeviceCols + " FROM push_devices WHERE node = ?")
	p.q.list = db.Rebind("SELECT " + pushDeviceCols + " FROM push_devices WHERE domain = ? AND username = ? ORDER BY created_at, node")
	p.q.disable = db.Rebind("UPDATE push_devices SET disabled_at = ? WHERE node = ? AND disabled_at = 0")
	p.q.del = db.Rebind("DELETE FROM push_devices WHERE node = ? AND domain = ? AND username = ?")
	p.q.delOwned = db.Rebind("DELETE FROM push_devices WHERE domain = ? AND username = ?")
	return p
}

func checkPushDevice(d PushDevice) error {
	if err := checkOwner(d.Owner); err != nil {
		return err
	}
	switch {
	case d.Node == "" || len(d.Node) > MaxPushNodeBytes:
		return fmt.Errorf("storage: push node of %d bytes (1 to %d)", len(d.Node), MaxPushNodeBytes)
	case d.Provider != "apns" && d.Provider != "fcm":
		return fmt.Errorf("storage: push provider %q (apns or fcm)", d.Provider)
	case d.Token == "" || len(d.Token) > MaxPushTokenBytes:
		return fmt.Errorf("storage: push token of %d bytes (1 to %d)", len(d.Token), MaxPushTokenBytes)
	case len(d.Topic) > MaxPushTopicBytes:
		return fmt.Errorf("storage: push topic of %d bytes (at most %d)", len(d.Topic), MaxPushTopicBytes)
	case len(d.SecretHash) != 32:
		return fmt.Errorf("storage: push secret hash of %d bytes (32)", len(d.SecretHash))
	}
	return nil
}

// Add stores d. With max > 0 it fails with ErrLimit, writing nothing, if
// the owner would then have more than max devices. A node taken already
// is an error (nodes are random; the caller draws another).
func (p *PushDevices) Add(ctx context.Context, d PushDevice, max int) error {
	if err := checkPushDevice(d); err != nil {
		return err
	}
	err := p.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := p.db.lockOwner(ctx, tx, d.Owner.Domain(), d.Owner.Local()); err != nil {
			return err
		}
		if max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, p.q.count, d.Owner.Domain(), d.Owner.Local()).Scan(&n); err != nil {
				return err
			}
			if n >= max {
				return fmt.Errorf("%w (%d push devices, at most %d)", ErrLimit, n, max)
			}
		}
		_, err := tx.ExecContext(ctx, p.q.insert, d.Node, d.Owner.Domain(), d.Owner.Local(), d.Provider, d.Token, d.Topic,
			boolInt(d.Sandbox), d.SecretHash, d.Created.UnixMilli(), unixMilliOrZero(d.Disabled))
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: add push device for %s: %w", d.Owner, err)
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func scanPushDevice(s interface{ Scan(...any) error }) (PushDevice, error) {
	var d PushDevice
	var domain, user string
	var sandbox, created, disabled int64
	if err := s.Scan(&d.Node, &domain, &user, &d.Provider, &d.Token, &d.Topic, &sandbox, &d.SecretHash, &created, &disabled); err != nil {
		return d, err
	}
	owner, err := jid.New(user, domain, "")
	if err != nil {
		return d, fmt.Errorf("stored push device owner %q@%q: %w", user, domain, err)
	}
	d.Owner, d.Sandbox, d.Created = owner, sandbox != 0, time.UnixMilli(created)
	if disabled != 0 {
		d.Disabled = time.UnixMilli(disabled)
	}
	return d, nil
}

// Get returns the device registered at node.
func (p *PushDevices) Get(ctx context.Context, node string) (d PushDevice, found bool, err error) {
	d, err = scanPushDevice(p.db.sql.QueryRowContext(ctx, p.q.get, node))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return PushDevice{}, false, nil
	case err != nil:
		return PushDevice{}, false, fmt.Errorf("storage: push device %q: %w", node, err)
	}
	return d, true, nil
}

// List returns user's devices, oldest first.
func (p *PushDevices) List(ctx context.Context, user jid.JID) ([]PushDevice, error) {
	rows, err := p.db.sql.QueryContext(ctx, p.q.list, user.Domain(), user.Local())
	if err != nil {
		return nil, fmt.Errorf("storage: push devices of %s: %w", user, err)
	}
	defer rows.Close()
	var out []PushDevice
	for rows.Next() {
		d, err := scanPushDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: push devices of %s: %w", user, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: push devices of %s: %w", user, err)
	}
	return out, nil
}

// Disable marks the device at node dead (the provider refused its
// token); it reports whether it was enabled.
func (p *PushDevices) Disable(ctx context.Context, node string, at time.Time) (bool, error) {
	var n int64
	err := p.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, p.q.disable, at.UnixMilli(), node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: disable push device %q: %w", node, err)
	}
	return n > 0, nil
}

// Delete removes user's device at node; it reports whether there was one.
func (p *PushDevices) Delete(ctx context.Context, user jid.JID, node string) (bool, error) {
	var n int64
	err := p.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, p.q.del, node, user.Domain(), user.Local())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: delete push device %q of %s: %w", node, user, err)
	}
	return n > 0, nil
}

// Replace sets user's devices to ds (an import): user's other devices
// are removed. A node another account owns is an error.
func (p *PushDevices) Replace(ctx context.Context, user jid.JID, ds []PushDevice) error {
	for _, d := range ds {
		if err := checkPushDevice(d); err != nil {
			return err
		}
		if d.Owner != user.Bare() {
			return fmt.Errorf("storage: push device %q is %s's, not %s's", d.Node, d.Owner, user)
		}
	}
	err := p.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, p.q.delOwned, user.Domain(), user.Local()); err != nil {
			return err
		}
		for _, d := range ds {
			if _, err := tx.ExecContext(ctx, p.q.insert, d.Node, d.Owner.Domain(), d.Owner.Local(), d.Provider, d.Token, d.Topic,
				boolInt(d.Sandbox), d.SecretHash, d.Created.UnixMilli(), unixMilliOrZero(d.Disabled)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: replace push devices of %s: %w", user, err)
	}
	return nil
}
