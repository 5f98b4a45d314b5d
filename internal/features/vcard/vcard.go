package vcard

import (
	"context"
	"fmt"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of XEP-0054 and XEP-0153.
const (
	NS       = "vcard-temp"
	NSUpdate = "vcard-temp:x:update"
)

// kind names vCards in storage; each account has at most one record.
const kind = "vcard"

// DefaultMaxBytes bounds a stored vCard when Config.MaxBytes is 0.
const DefaultMaxBytes = 64 << 10

// Config is what the module needs.
type Config struct {
	DB *storage.DB
	// MaxBytes bounds the serialised vCard (DefaultMaxBytes when 0).
	MaxBytes int
}

// Module answers vCard gets and sets.
type Module struct {
	recs     *storage.Records
	maxBytes int
}

// New returns the module.
func New(cfg Config) *Module {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	return &Module{recs: cfg.DB.Records(kind), maxBytes: cfg.MaxBytes}
}

// Register declares the disco features and the iq handlers.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.AccountFeature(NS)
	reg.IQ(module.Account, stanza.Get, NS, "vCard", m.get)
	reg.IQ(module.Account, stanza.Set, NS, "vCard", m.set)
}

// VCard returns user's stored vCard, or nil when there is none (the
// XEP-0153 avatar hash is computed from its PHOTO).
func (m *Module) VCard(ctx context.Context, user jid.JID) (*stanza.Element, error) {
	rec, found, err := m.recs.Get(ctx, user, "")
	if err != nil || !found {
		return nil, err
	}
	els, err := storage.DecodeElements(rec.Data)
	if err != nil || len(els) != 1 {
		return nil, fmt.Errorf("vcard: stored vCard of %s is unreadable: %v", user, err)
	}
	return els[0], nil
}

// get returns the vCard of the addressed account (the sender's own when
// there is no 'to').
func (m *Module) get(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	own := iq.To.IsZero() || iq.To == iq.From.Bare()
	owner := iq.From.Bare()
	if !own {
		owner = iq.To.Bare()
	}
	rec, found, err := m.recs.Get(ctx, owner, "")
	if err != nil {
		return nil, fmt.Errorf("vcard: get %s: %w", owner, err)
	}
	if !found {
		if own {
			return stanza.New(NS, "vCard"), nil
		}
		return nil, stanza.NewError(stanza.ItemNotFound)
	}
	els, err := storage.DecodeElements(rec.Data)
	if err != nil || len(els) != 1 {
		return nil, fmt.Errorf("vcard: stored vCard of %s is unreadable: %v", owner, err)
	}
	return els[0], nil
}

// set stores the sender's own vCard.
func (m *Module) set(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	owner := iq.From.Bare()
	if !iq.To.IsZero() && iq.To != owner {
		return nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may only set your own vCard")
	}
	if len(iq.Payload.ChildElements()) == 0 {
		if _, err := m.recs.Delete(ctx, owner, ""); err != nil {
			return nil, fmt.Errorf("vcard: clear %s: %w", owner, err)
		}
		return nil, nil
	}
	data := storage.EncodeElements(iq.Payload)
	if len(data) > m.maxBytes {
		return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the vCard is %d bytes; at most %d are stored", len(data), m.maxBytes)
	}
	if err := m.recs.Put(ctx, owner, []storage.Record{{Data: data}}, 0); err != nil {
		return nil, fmt.Errorf("vcard: set %s: %w", owner, err)
	}
	return nil, nil
}

var _ module.Registrar = (*Module)(nil)
