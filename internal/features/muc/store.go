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
}

// Store keeps persistent rooms in the muc_rooms and muc_affiliations
// tables.
type Store struct {
	db *storage.DB
	q  struct{ upsert, delAffs, putAff, del, rooms, affs string }
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
		return nil
	})
	if err != nil {
		return fmt.Errorf("muc: save %s: %w", r.Room, err)
	}
	return nil
}

// Delete removes a room and its affiliations.
func (s *Store) Delete(ctx context.Context, room jid.JID) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q.delAffs, room.Domain(), room.Local()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.del, room.Domain(), room.Local())
		return err
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
		r := &StoredRoom{Affiliations: map[jid.JID]Affiliation{}, Reasons: map[jid.JID]string{}}
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

// snapshot is what Save needs of r (r.mu held).
func (r *room) snapshot() StoredRoom {
	sr := StoredRoom{Room: r.jid, Config: r.cfg, Subject: r.subject, SubjectBy: r.subjectBy,
		Affiliations: make(map[jid.JID]Affiliation, len(r.affs)), Reasons: make(map[jid.JID]string, len(r.reasons))}
	for j, a := range r.affs {
		sr.Affiliations[j] = a
	}
	for j, s := range r.reasons {
		sr.Reasons[j] = s
	}
	return sr
}

// save stores a persistent room (r.mu held). A failure is logged: the
// room keeps working in memory.
func (r *room) save(ctx context.Context) {
	if !r.cfg.Persistent || r.svc.store == nil {
		return
	}
	if err := r.svc.store.Save(ctx, r.snapshot()); err != nil {
		r.svc.log.Error("storing room failed", "room", r.jidStr, "err", err)
	}
}

// forget deletes a room that stopped being persistent or was destroyed.
func (r *room) forget(ctx context.Context) {
	if r.svc.store == nil {
		return
	}
	if err := r.svc.store.Delete(ctx, r.jid); err != nil {
		r.svc.log.Error("deleting stored room failed", "room", r.jidStr, "err", err)
	}
}

// restore builds the in-memory room of a stored one.
func (s *Service) restore(sr StoredRoom) *room {
	r := s.newRoom(sr.Room)
	r.cfg, r.subject, r.subjectBy = sr.Config, sr.Subject, sr.SubjectBy
	r.cfg.Persistent = true
	if r.cfg.MaxUsers <= 0 || r.cfg.MaxUsers > s.cfg.MaxOccupants {
		r.cfg.MaxUsers = s.cfg.MaxOccupants
	}
	for j, a := range sr.Affiliations {
		r.affs[j] = a
	}
	for j, reason := range sr.Reasons {
		r.reasons[j] = reason
	}
	return r
}
