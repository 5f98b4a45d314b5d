package muc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

// StoredRoom is what the database keeps of a persistent room.
type StoredRoom struct {
	Room         jid.JID // room@service
	Config       RoomConfig
	Subject      string
	SubjectBy    string
	Affiliations map[jid.JID]Affiliation // never AffNone
	Reasons      map[jid.JID]string
	// Registrations are the registered bare JIDs with their reserved
	// nicknames (§7.10, §7.12).
	Registrations map[jid.JID]string
	// Secret keys the room's occupant ids (XEP-0421); nil in a room
	// stored before it existed.
	Secret []byte
}

// Store keeps persistent rooms in the muc_rooms, muc_affiliations,
// muc_registrations and muc_room_secrets tables.
type Store struct {
	db *storage.DB
	q  struct {
		upsert, delAffs, putAff, del, rooms, affs            string
		delRegs, putReg, regs, putSecret, delSecret, secrets string
	}
}

// NewStore returns the room store over db.
func NewStore(db *storage.DB) *Store {
	s := &Store{db: db}
	s.q.upsert = db.Upsert("muc_rooms", []string{"service", "name"}, []string{"config", "subject", "subject_by", "updated_at"})
	s.q.delAffs = db.Rebind("DELETE FROM muc_affiliations WHERE service = ? AND name = ?")
	s.q.putAff = db.Rebind("INSERT INTO muc_affiliations (service, name, jid, affiliation, reason) VALUES (?, ?, ?, ?, ?)")
	s.q.del = db.Rebind("DELETE FROM muc_rooms WHERE service = ? AND name = ?")
	s.q.rooms = db.Rebind("SELECT name, config, subject, subject_by FROM muc_rooms WHERE service = ? ORDER BY name")
	s.q.affs = db.Rebind("SELECT name, jid, affiliation, reason FROM muc_affiliations WHERE service = ? ORDER BY name, jid")
	s.q.delRegs = db.Rebind("DELETE FROM muc_registrations WHERE service = ? AND name = ?")
	s.q.putReg = db.Rebind("INSERT INTO muc_registrations (service, name, jid, nick) VALUES (?, ?, ?, ?)")
	s.q.regs = db.Rebind("SELECT name, jid, nick FROM muc_registrations WHERE service = ? ORDER BY name, jid")
	s.q.putSecret = db.Upsert("muc_room_secrets", []string{"service", "name"}, []string{"secret"})
	s.q.delSecret = db.Rebind("DELETE FROM muc_room_secrets WHERE service = ? AND name = ?")
	s.q.secrets = db.Rebind("SELECT name, secret FROM muc_room_secrets WHERE service = ?")
	return s
}

// Save writes a room with its affiliations, replacing what was stored.
func (s *Store) Save(ctx context.Context, r StoredRoom) error {
	cfg, err := json.Marshal(r.Config)
	if err != nil {
		return fmt.Errorf("muc: save %s: %w", r.Room, err)
	}
	svc, name := r.Room.Domain(), r.Room.Local()
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.upsert, svc, name, cfg, r.Subject, r.SubjectBy, time.Now().UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.delAffs, svc, name); err != nil {
			return err
		}
		for j, a := range r.Affiliations {
			if a == AffNone {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.q.putAff, svc, name, j.String(), a.String(), r.Reasons[j]); err != nil {
				return err
			}
		}
		return s.saveExtras(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("muc: save %s: %w", r.Room, err)
	}
	return nil
}

// Delete removes a room and its affiliations.
func (s *Store) Delete(ctx context.Context, room jid.JID) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{s.q.delAffs, s.q.delRegs, s.q.delSecret, s.q.del} {
			if _, err := tx.ExecContext(ctx, q, room.Domain(), room.Local()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("muc: delete %s: %w", room, err)
	}
	return nil
}

// Load returns the rooms of a service domain, sorted by name. Rows that do
// not parse fail the load: they are this package's own.
func (s *Store) Load(ctx context.Context, service string) ([]StoredRoom, error) {
	rooms, err := s.loadRooms(ctx, service)
	if err != nil {
		return nil, fmt.Errorf("muc: load rooms of %s: %w", service, err)
	}
	if err := s.loadAffs(ctx, service, rooms); err != nil {
		return nil, fmt.Errorf("muc: load affiliations of %s: %w", service, err)
	}
	if err := s.loadExtras(ctx, service, rooms); err != nil {
		return nil, fmt.Errorf("muc: load registrations of %s: %w", service, err)
	}
	out := make([]StoredRoom, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, *r)
	}
	sortRooms(out)
	return out, nil
}

func (s *Store) loadRooms(ctx context.Context, service string) (map[string]*StoredRoom, error) {
	rows, err := s.db.SQL().QueryContext(ctx, s.q.rooms, service)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*StoredRoom{}
	for rows.Next() {
		var name string
		var cfg []byte
		r := &StoredRoom{Affiliations: map[jid.JID]Affiliation{}, Reasons: map[jid.JID]string{}, Registrations: map[jid.JID]string{}}
		if err := rows.Scan(&name, &cfg, &r.Subject, &r.SubjectBy); err != nil {
			return nil, err
		}
		if r.Room, err = jid.New(name, service, ""); err != nil {
			return nil, fmt.Errorf("room %q: %w", name, err)
		}
		if err := json.Unmarshal(cfg, &r.Config); err != nil {
			return nil, fmt.Errorf("room %q: config: %w", name, err)
		}
		out[name] = r
	}
	return out, rows.Err()
}

func (s *Store) loadAffs(ctx context.Context, service string, rooms map[string]*StoredRoom) error {
	rows, err := s.db.SQL().QueryContext(ctx, s.q.affs, service)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, j, a, reason string
		if err := rows.Scan(&name, &j, &a, &reason); err != nil {
			return err
		}
		r := rooms[name]
		if r == nil {
			continue
		}
		user, err := jid.Parse(j)
		aff, ok := ParseAffiliation(a)
		if err != nil || !ok {
			return fmt.Errorf("room %q: bad affiliation %q of %q", name, a, j)
		}
		r.Affiliations[user] = aff
		if reason != "" {
			r.Reasons[user] = reason
		}
	}
	return rows.Err()
}

func sortRooms(rs []StoredRoom) {
	slices.SortFunc(rs, func(a, b StoredRoom) int { return strings.Compare(a.Room.Local(), b.Room.Local()) })
}

// saveExtras replaces a room's registrations and stores its secret.
func (s *Store) saveExtras(ctx context.Context, tx *sql.Tx, r StoredRoom) error {
	svc, name := r.Room.Domain(), r.Room.Local()
	if _, err := tx.ExecContext(ctx, s.q.delRegs, svc, name); err != nil {
		return err
	}
	for j, nick := range r.Registrations {
		if _, err := tx.ExecContext(ctx, s.q.putReg, svc, name, j.String(), nick); err != nil {
			return err
		}
	}
	if len(r.Secret) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.q.putSecret, svc, name, r.Secret)
	return err
}

// loadExtras adds the registrations and secrets to loaded rooms.
func (s *Store) loadExtras(ctx context.Context, service string, rooms map[string]*StoredRoom) error {
	rows, err := s.db.SQL().QueryContext(ctx, s.q.regs, service)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, j, nick string
		if err := rows.Scan(&name, &j, &nick); err != nil {
			return err
		}
		user, err := jid.Parse(j)
		if err != nil {
			return fmt.Errorf("room %q: bad registered jid %q", name, j)
		}
		if r := rooms[name]; r != nil {
			r.Registrations[user] = nick
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	srows, err := s.db.SQL().QueryContext(ctx, s.q.secrets, service)
	if err != nil {
		return err
	}
	defer srows.Close()
	for srows.Next() {
		var name string
		var secret []byte
		if err := srows.Scan(&name, &secret); err != nil {
			return err
		}
		if r := rooms[name]; r != nil {
			r.Secret = secret
		}
	}
	return srows.Err()
}
