package pubsub

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// ErrExists is returned (wrapped) by Store.CreateNode when the node exists.
var ErrExists = errors.New("pubsub: node exists")

// StoredNode is a node as the database keeps it.
type StoredNode struct {
	Service string // the PEP owner's bare JID or the service domain
	Node    string
	Creator string // bare JID
	Config  NodeConfig
	Created time.Time
}

// Item is one published item.
type Item struct {
	ID        string
	Publisher string // full JID
	Payload   []byte // storage.EncodeElements of the item's children
	Published time.Time
}

// Subscription is one subscription to a node (XEP-0060 §6.1).
type Subscription struct {
	JID     string // bare or full JID
	SubID   string
	State   string // subscribed, pending, unconfigured
	Options SubOptions
}

// SubOptions are the subscription options this server keeps (XEP-0060
// §6.3): whether notifications are delivered at all and whether they may
// carry payloads.
type SubOptions struct {
	Deliver         bool `json:"deliver"`
	IncludeBody     bool `json:"include_body,omitempty"`
	PresenceOnly    bool `json:"presence_only,omitempty"` // pubsub#show-values: deliver only while available
	DigestFrequency int  `json:"digest_frequency,omitempty"`
}

// Store keeps nodes, items, subscriptions, affiliations and the caps
// cache in the pubsub_* tables (migration 00007).
type Store struct {
	db *storage.DB
	q  struct {
		putNode, node, nodes, countNodes, setConfig, delNode                    string
		nextSeq, putItem, trimSeq, trim, items, itemsBefore, item, count, seqOf string
		retract, purge                                                          string
		putSub, delSub, subs, subsOf                                            string
		putAff, delAff, affs, affsOf                                            string
		putCaps, caps                                                           string
	}
}

// NewStore returns the store over db.
func NewStore(db *storage.DB) *Store {
	s := &Store{db: db}
	r := db.Rebind
	s.q.putNode = r("INSERT INTO pubsub_nodes (service, node, creator, config, created_at, owner_domain, owner_user) VALUES (?, ?, ?, ?, ?, ?, ?)")
	s.q.node = r("SELECT creator, config, created_at FROM pubsub_nodes WHERE service = ? AND node = ?")
	s.q.nodes = r("SELECT node, creator, config, created_at FROM pubsub_nodes WHERE service = ? ORDER BY node")
	s.q.countNodes = r("SELECT count(*) FROM pubsub_nodes WHERE service = ? AND creator = ?")
	s.q.setConfig = r("UPDATE pubsub_nodes SET config = ? WHERE service = ? AND node = ?")
	s.q.delNode = r("DELETE FROM pubsub_nodes WHERE service = ? AND node = ?")
	s.q.nextSeq = r("SELECT COALESCE(MAX(seq), 0) + 1 FROM pubsub_items WHERE service = ? AND node = ?")
	s.q.putItem = db.Upsert("pubsub_items", []string{"service", "node", "item_id"}, []string{"seq", "publisher", "payload", "published_at"})
	s.q.trimSeq = r("SELECT seq FROM pubsub_items WHERE service = ? AND node = ? ORDER BY seq DESC LIMIT 1 OFFSET ?")
	s.q.trim = r("DELETE FROM pubsub_items WHERE service = ? AND node = ? AND seq <= ?")
	const cols = "SELECT item_id, publisher, payload, published_at, seq FROM pubsub_items WHERE service = ? AND node = ?"
	s.q.items = r(cols + " AND seq < ? ORDER BY seq DESC LIMIT ?")
	s.q.itemsBefore = r(cols + " AND seq > ? ORDER BY seq ASC LIMIT ?")
	s.q.item = r(cols + " AND item_id = ?")
	s.q.count = r("SELECT count(*) FROM pubsub_items WHERE service = ? AND node = ?")
	s.q.seqOf = r("SELECT seq FROM pubsub_items WHERE service = ? AND node = ? AND item_id = ?")
	s.q.retract = r("DELETE FROM pubsub_items WHERE service = ? AND node = ? AND item_id = ?")
	s.q.purge = r("DELETE FROM pubsub_items WHERE service = ? AND node = ?")
	s.q.putSub = db.Upsert("pubsub_subscriptions", []string{"service", "node", "jid", "subid"}, []string{"state", "options"})
	s.q.delSub = r("DELETE FROM pubsub_subscriptions WHERE service = ? AND node = ? AND jid = ? AND subid = ?")
	s.q.subs = r("SELECT jid, subid, state, options FROM pubsub_subscriptions WHERE service = ? AND node = ? ORDER BY jid, subid")
	s.q.subsOf = r("SELECT node, jid, subid, state, options FROM pubsub_subscriptions WHERE service = ? ORDER BY node, jid, subid")
	s.q.putAff = db.Upsert("pubsub_affiliations", []string{"service", "node", "jid"}, []string{"affiliation"})
	s.q.delAff = r("DELETE FROM pubsub_affiliations WHERE service = ? AND node = ? AND jid = ?")
	s.q.affs = r("SELECT jid, affiliation FROM pubsub_affiliations WHERE service = ? AND node = ? ORDER BY jid")
	s.q.affsOf = r("SELECT node, affiliation FROM pubsub_affiliations WHERE service = ? AND jid = ? ORDER BY node")
	s.q.putCaps = db.Upsert("pubsub_caps", []string{"hash"}, []string{"info", "created_at"})
	s.q.caps = r("SELECT info FROM pubsub_caps WHERE hash = ?")
	return s
}

// CreateNode stores a new node with the creator as its owner. With
// limit > 0 it fails with storage.ErrLimit, storing nothing, when the
// creator would then have more than limit nodes on the service.
func (s *Store) CreateNode(ctx context.Context, n StoredNode, limit int) error {
	cfg, err := json.Marshal(n.Config)
	if err != nil {
		return fmt.Errorf("pubsub: create %s/%s: %w", n.Service, n.Node, err)
	}
	if n.Created.IsZero() {
		n.Created = time.Now()
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, found, err := s.nodeTx(ctx, tx, n.Service, n.Node); err != nil {
			return err
		} else if found {
			return ErrExists
		}
		if limit > 0 {
			var count int
			if err := tx.QueryRowContext(ctx, s.q.countNodes, n.Service, n.Creator).Scan(&count); err != nil {
				return err
			}
			if count >= limit {
				return fmt.Errorf("%w (%d nodes, at most %d)", storage.ErrLimit, count, limit)
			}
		}
		domain, user := pepAccount(n.Service)
		if _, err := tx.ExecContext(ctx, s.q.putNode, n.Service, n.Node, n.Creator, cfg, n.Created.UnixMilli(), domain, user); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.putAff, n.Service, n.Node, n.Creator, AffOwner)
		return err
	})
	if err != nil {
		return fmt.Errorf("pubsub: create %s/%s: %w", n.Service, n.Node, err)
	}
	return nil
}

// pepAccount returns the account owning a PEP service (a bare JID with a
// localpart) as the owner columns, so that deleting the account deletes
// its nodes; NULLs for the service on a domain.
func pepAccount(service string) (domain, user any) {
	j, err := jid.Parse(service)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return nil, nil
	}
	return j.Domain(), j.Local()
}

func (s *Store) nodeTx(ctx context.Context, tx *sql.Tx, service, node string) (StoredNode, bool, error) {
	return scanNode(tx.QueryRowContext(ctx, s.q.node, service, node), service, node)
}

func scanNode(row *sql.Row, service, node string) (StoredNode, bool, error) {
	n := StoredNode{Service: service, Node: node}
	var cfg []byte
	var ms int64
	switch err := row.Scan(&n.Creator, &cfg, &ms); {
	case errors.Is(err, sql.ErrNoRows):
		return StoredNode{}, false, nil
	case err != nil:
		return StoredNode{}, false, err
	}
	n.Created = time.UnixMilli(ms)
	if err := json.Unmarshal(cfg, &n.Config); err != nil {
		return StoredNode{}, false, fmt.Errorf("stored config of %s/%s: %w", service, node, err)
	}
	return n, true, nil
}

// Node returns a node; found is false when there is none.
func (s *Store) Node(ctx context.Context, service, node string) (StoredNode, bool, error) {
	n, found, err := scanNode(s.db.QueryRow(ctx, s.q.node, service, node), service, node)
	if err != nil {
		return StoredNode{}, false, fmt.Errorf("pubsub: node %s/%s: %w", service, node, err)
	}
	return n, found, nil
}

// Nodes returns the nodes of a service, sorted by name.
func (s *Store) Nodes(ctx context.Context, service string) ([]StoredNode, error) {
	rows, err := s.db.Query(ctx, s.q.nodes, service)
	if err != nil {
		return nil, fmt.Errorf("pubsub: nodes of %s: %w", service, err)
	}
	defer rows.Close()
	var out []StoredNode
	for rows.Next() {
		n := StoredNode{Service: service}
		var cfg []byte
		var ms int64
		if err := rows.Scan(&n.Node, &n.Creator, &cfg, &ms); err != nil {
			return nil, fmt.Errorf("pubsub: nodes of %s: %w", service, err)
		}
		n.Created = time.UnixMilli(ms)
		if err := json.Unmarshal(cfg, &n.Config); err != nil {
			return nil, fmt.Errorf("pubsub: stored config of %s/%s: %w", service, n.Node, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pubsub: nodes of %s: %w", service, err)
	}
	return out, nil
}

// SetConfig replaces a node's configuration and trims its items to the
// new max_items.
func (s *Store) SetConfig(ctx context.Context, service, node string, cfg NodeConfig) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("pubsub: configure %s/%s: %w", service, node, err)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.setConfig, data, service, node); err != nil {
			return err
		}
		if !cfg.PersistItems {
			_, err := tx.ExecContext(ctx, s.q.purge, service, node)
			return err
		}
		return s.trimTx(ctx, tx, service, node, cfg.MaxItems)
	})
	if err != nil {
		return fmt.Errorf("pubsub: configure %s/%s: %w", service, node, err)
	}
	return nil
}

// DeleteNode removes a node with its items, subscriptions and
// affiliations; it reports whether the node existed.
func (s *Store) DeleteNode(ctx context.Context, service, node string) (bool, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Children first, so the result does not depend on the engine
		// running the foreign keys' cascades.
		for _, q := range []string{"pubsub_items", "pubsub_subscriptions", "pubsub_affiliations"} {
			if _, err := tx.ExecContext(ctx, s.db.Rebind("DELETE FROM "+q+" WHERE service = ? AND node = ?"), service, node); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q.delNode, service, node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("pubsub: delete %s/%s: %w", service, node, err)
	}
	return n > 0, nil
}

// Publish stores an item (replacing one with the same id, which becomes
// the newest) and keeps at most maxItems items (0: no limit).
func (s *Store) Publish(ctx context.Context, service, node string, it Item, maxItems int) error {
	if it.Published.IsZero() {
		it.Published = time.Now()
	}
	payload := it.Payload
	if payload == nil {
		payload = []byte{}
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, s.q.nextSeq, service, node).Scan(&seq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.putItem, service, node, it.ID, seq, it.Publisher, payload, it.Published.UnixMilli()); err != nil {
			return err
		}
		return s.trimTx(ctx, tx, service, node, maxItems)
	})
	if err != nil {
		return fmt.Errorf("pubsub: publish to %s/%s: %w", service, node, err)
	}
	return nil
}

// trimTx deletes all but the newest max items (max <= 0: none).
func (s *Store) trimTx(ctx context.Context, tx *sql.Tx, service, node string, max int) error {
	if max <= 0 {
		return nil
	}
	var seq int64
	switch err := tx.QueryRowContext(ctx, s.q.trimSeq, service, node, max).Scan(&seq); {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	_, err := tx.ExecContext(ctx, s.q.trim, service, node, seq)
	return err
}

// ItemQuery selects items of a node, newest first. IDs, when set, selects
// those items only. Otherwise Max bounds how many (0: all), and After or
// Before (item ids, XEP-0059) page: After gives the items older than that
// one, Before the ones newer (the newest page before it). MaxBytes, when
// set, ends the page early once the payloads read reach it (at least one
// item is returned), so one answer stays within what a session may queue.
type ItemQuery struct {
	IDs           []string
	Max           int
	After, Before string
	MaxBytes      int
}

// Page is a result of Items: the items newest first and the node's item
// count.
type Page struct {
	Items []Item
	Count int
}

// Items returns the items q selects. An unknown After/Before id gives
// found=false.
func (s *Store) Items(ctx context.Context, service, node string, q ItemQuery) (p Page, found bool, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("pubsub: items of %s/%s: %w", service, node, err)
		}
	}()
	if len(q.IDs) > 0 {
		for _, id := range q.IDs {
			it, ok, err := s.item(ctx, service, node, id)
			if err != nil {
				return Page{}, false, err
			}
			if ok {
				p.Items = append(p.Items, it)
			}
		}
		p.Count = len(p.Items)
		return p, true, nil
	}
	if err := s.db.QueryRow(ctx, s.q.count, service, node).Scan(&p.Count); err != nil {
		return Page{}, false, err
	}
	limit := q.Max
	if limit <= 0 {
		limit = 1 << 30
	}
	query, bound := s.q.items, int64(1<<62)
	if q.After != "" || q.Before != "" {
		id := q.After
		if q.Before != "" {
			id, query = q.Before, s.q.itemsBefore
		}
		switch err := s.db.QueryRow(ctx, s.q.seqOf, service, node, id).Scan(&bound); {
		case errors.Is(err, sql.ErrNoRows):
			return Page{}, false, nil
		case err != nil:
			return Page{}, false, err
		}
	}
	items, err := s.scanItemsUpTo(ctx, q.MaxBytes, query, service, node, bound, limit)
	if err != nil {
		return Page{}, false, err
	}
	if query == s.q.itemsBefore {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	p.Items = items
	return p, true, nil
}

func (s *Store) scanItems(ctx context.Context, query string, args ...any) ([]Item, error) {
	return s.scanItemsUpTo(ctx, 0, query, args...)
}

// scanItemsUpTo reads items until their payloads reach maxBytes (0: all).
func (s *Store) scanItemsUpTo(ctx context.Context, maxBytes int, query string, args ...any) ([]Item, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	total := 0
	for rows.Next() {
		if maxBytes > 0 && total >= maxBytes {
			break
		}
		var it Item
		var ms, seq int64
		if err := rows.Scan(&it.ID, &it.Publisher, &it.Payload, &ms, &seq); err != nil {
			return nil, err
		}
		it.Published = time.UnixMilli(ms)
		total += len(it.Payload)
		out = append(out, it)
	}
	return out, rows.Err()
}

func (s *Store) item(ctx context.Context, service, node, id string) (Item, bool, error) {
	items, err := s.scanItems(ctx, s.q.item, service, node, id)
	if err != nil || len(items) == 0 {
		return Item{}, false, err
	}
	return items[0], true, nil
}

// Last returns the newest item of a node.
func (s *Store) Last(ctx context.Context, service, node string) (Item, bool, error) {
	items, err := s.scanItems(ctx, s.q.items, service, node, int64(1<<62), 1)
	if err != nil {
		return Item{}, false, fmt.Errorf("pubsub: last item of %s/%s: %w", service, node, err)
	}
	if len(items) == 0 {
		return Item{}, false, nil
	}
	return items[0], true, nil
}

// Retract deletes an item and reports whether it existed.
func (s *Store) Retract(ctx context.Context, service, node, id string) (bool, error) {
	n, err := s.exec(ctx, s.q.retract, service, node, id)
	if err != nil {
		return false, fmt.Errorf("pubsub: retract %s from %s/%s: %w", id, service, node, err)
	}
	return n > 0, nil
}

// Purge deletes every item of a node.
func (s *Store) Purge(ctx context.Context, service, node string) error {
	if _, err := s.exec(ctx, s.q.purge, service, node); err != nil {
		return fmt.Errorf("pubsub: purge %s/%s: %w", service, node, err)
	}
	return nil
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PutSubscription stores (or replaces) a subscription.
func (s *Store) PutSubscription(ctx context.Context, service, node string, sub Subscription) error {
	opts, err := json.Marshal(sub.Options)
	if err != nil {
		return fmt.Errorf("pubsub: subscribe %s to %s/%s: %w", sub.JID, service, node, err)
	}
	if _, err := s.exec(ctx, s.q.putSub, service, node, sub.JID, sub.SubID, sub.State, opts); err != nil {
		return fmt.Errorf("pubsub: subscribe %s to %s/%s: %w", sub.JID, service, node, err)
	}
	return nil
}

// DeleteSubscription removes a subscription and reports whether it
// existed.
func (s *Store) DeleteSubscription(ctx context.Context, service, node, jid, subid string) (bool, error) {
	n, err := s.exec(ctx, s.q.delSub, service, node, jid, subid)
	if err != nil {
		return false, fmt.Errorf("pubsub: unsubscribe %s from %s/%s: %w", jid, service, node, err)
	}
	return n > 0, nil
}

// Subscriptions returns the subscriptions of a node.
func (s *Store) Subscriptions(ctx context.Context, service, node string) ([]Subscription, error) {
	rows, err := s.db.Query(ctx, s.q.subs, service, node)
	if err != nil {
		return nil, fmt.Errorf("pubsub: subscriptions of %s/%s: %w", service, node, err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var sub Subscription
		var opts []byte
		if err := rows.Scan(&sub.JID, &sub.SubID, &sub.State, &opts); err != nil {
			return nil, fmt.Errorf("pubsub: subscriptions of %s/%s: %w", service, node, err)
		}
		if err := json.Unmarshal(opts, &sub.Options); err != nil {
			return nil, fmt.Errorf("pubsub: stored options of %s on %s/%s: %w", sub.JID, service, node, err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pubsub: subscriptions of %s/%s: %w", service, node, err)
	}
	return out, nil
}

// SetAffiliation sets jid's affiliation with a node; AffNone removes it.
func (s *Store) SetAffiliation(ctx context.Context, service, node, jid string, aff Affiliation) error {
	var err error
	if aff == AffNone {
		_, err = s.exec(ctx, s.q.delAff, service, node, jid)
	} else {
		_, err = s.exec(ctx, s.q.putAff, service, node, jid, aff)
	}
	if err != nil {
		return fmt.Errorf("pubsub: affiliate %s with %s/%s: %w", jid, service, node, err)
	}
	return nil
}

// Affiliations returns the affiliations of a node by bare JID.
func (s *Store) Affiliations(ctx context.Context, service, node string) (map[string]Affiliation, error) {
	rows, err := s.db.Query(ctx, s.q.affs, service, node)
	if err != nil {
		return nil, fmt.Errorf("pubsub: affiliations of %s/%s: %w", service, node, err)
	}
	defer rows.Close()
	out := map[string]Affiliation{}
	for rows.Next() {
		var j string
		var a Affiliation
		if err := rows.Scan(&j, &a); err != nil {
			return nil, fmt.Errorf("pubsub: affiliations of %s/%s: %w", service, node, err)
		}
		out[j] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pubsub: affiliations of %s/%s: %w", service, node, err)
	}
	return out, nil
}

// PutCaps caches a verified disco#info result under its hash.
func (s *Store) PutCaps(ctx context.Context, hash string, info []byte) error {
	if _, err := s.exec(ctx, s.q.putCaps, hash, info, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("pubsub: cache caps %s: %w", hash, err)
	}
	return nil
}

// Caps returns the cached disco#info of a hash.
func (s *Store) Caps(ctx context.Context, hash string) ([]byte, bool, error) {
	var info []byte
	switch err := s.db.QueryRow(ctx, s.q.caps, hash).Scan(&info); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("pubsub: caps %s: %w", hash, err)
	}
	return info, true, nil
}
