package muc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Who may create rooms (Config.Create).
const (
	CreateEveryone = "everyone"
	CreateLocal    = "local"
	CreateAdmins   = "admins"
)

// Config is what the service needs.
type Config struct {
	Host module.Host
	DB   *storage.DB // nil: no persistent rooms
	Log  *slog.Logger
	// Domains are the served user domains; the service runs on
	// Subdomain.<each>.
	Domains   []string
	Subdomain string
	// HistorySize is the number of messages each room keeps for new
	// occupants; MaxOccupants the default and highest maxusers.
	HistorySize  int
	MaxOccupants int
	// Create is CreateEveryone, CreateLocal or CreateAdmins; Admins the
	// bare JIDs that may always create rooms (invalid ones are ignored:
	// the configuration was validated).
	Create string
	Admins []string
	// MaxRoomsPerUser bounds the live rooms one user (bare JID) created;
	// 0 is no limit. Admins are exempt.
	MaxRoomsPerUser int
	// MessageRate is the groupchat messages per second one occupant may
	// send, with bursts of MessageBurst; 0 is no limit.
	MessageRate  float64
	MessageBurst int
	// HistoryBytes bounds one room's history cache, HistoryTotalBytes the
	// caches of all rooms together (serialised bytes); 0 takes the
	// defaults.
	HistoryBytes      int
	HistoryTotalBytes int64
	// Archive, when set, archives the groupchat messages of persistent
	// rooms (XEP-0313 on the room JID) and serves history from it.
	Archive *storage.Archive
	// MAMPageSize is the default and MAMMaxPage the largest page of a
	// room archive query; 0 takes 50 and 250.
	MAMPageSize, MAMMaxPage int
	// ArchivePrivate, when set, archives a private message (§7.5) in the
	// archive of its local recipient owner, from the sender's occupant
	// JID with, and stamps it with its stanza-id (the message archive's
	// ArchiveReceived): called without the room's lock, before delivery;
	// an error is returned to the sender and nothing is delivered.
	ArchivePrivate func(ctx context.Context, owner, with jid.JID, el *stanza.Element) error
}

// Defaults of the history budget.
const (
	DefaultHistoryBytes      = 64 << 10
	DefaultHistoryTotalBytes = 64 << 20
)

// Service is the MUC component for one or more service domains.
type Service struct {
	cfg    Config
	log    *slog.Logger
	host   module.Host
	store  *Store
	admins map[jid.JID]bool
	// domains maps each service domain to the user domain it belongs to.
	domains map[string]string

	// mu guards rooms and loaded. Lock order: room.mu → Service.mu.
	mu     sync.RWMutex
	rooms  map[jid.JID]*room // bare room JID → room
	loaded bool
	// loadMu serialises loading the persistent rooms.
	loadMu sync.Mutex

	// jmu guards joined: the rooms each real full JID is in, so that a
	// closed session leaves them all. Lock order: room.mu → jmu.
	jmu    sync.Mutex
	joined map[jid.JID]map[*room]struct{}

	// created counts the live rooms each user created (guarded by mu).
	created map[jid.JID]int
	cache   *historyCache
	archive *storage.Archive

	idPrefix string
	idSeq    atomic.Uint64
}

// New returns the service; Register adds it to the host.
func New(c Config) *Service {
	if c.MaxOccupants <= 0 {
		c.MaxOccupants = 200
	}
	if c.Subdomain == "" {
		c.Subdomain = "conference"
	}
	if c.HistoryBytes <= 0 {
		c.HistoryBytes = DefaultHistoryBytes
	}
	if c.HistoryTotalBytes <= 0 {
		c.HistoryTotalBytes = DefaultHistoryTotalBytes
	}
	s := &Service{
		cfg: c, log: c.Log.With("component", "muc"), host: c.Host,
		admins: map[jid.JID]bool{}, domains: map[string]string{},
		rooms: map[jid.JID]*room{}, joined: map[jid.JID]map[*room]struct{}{},
		created: map[jid.JID]int{}, archive: c.Archive,
	}
	if s.cfg.MAMPageSize <= 0 {
		s.cfg.MAMPageSize = 50
	}
	if s.cfg.MAMMaxPage < s.cfg.MAMPageSize {
		s.cfg.MAMMaxPage = max(250, s.cfg.MAMPageSize)
	}
	s.cache = &historyCache{maxCount: c.HistorySize, maxBytes: c.HistoryBytes, maxTotal: c.HistoryTotalBytes, svc: s}
	if c.DB != nil {
		s.store = NewStore(c.DB)
	}
	for _, a := range c.Admins {
		if j, err := jid.Parse(a); err == nil {
			s.admins[j.Bare()] = true
		}
	}
	for _, d := range c.Domains {
		s.domains[c.Subdomain+"."+d] = d
	}
	var p [6]byte
	rand.Read(p[:])
	s.idPrefix = base64.RawURLEncoding.EncodeToString(p[:]) + "-"
	return s
}

// Domains returns the service domains.
func (s *Service) Domains() []string {
	out := make([]string, 0, len(s.domains))
	for d := range s.domains {
		out = append(out, d)
	}
	return out
}

// Register adds the service to the router under each service domain and
// declares the disco items and the session hook.
func (s *Service) Register(reg *module.Registry) {
	for d := range s.domains {
		s.host.AddService(d, s)
	}
	reg.ServerItems(func(domain string) []module.DiscoItem {
		d := s.cfg.Subdomain + "." + domain
		if _, ok := s.domains[d]; !ok {
			return nil
		}
		return []module.DiscoItem{{JID: d, Name: "Group chat"}}
	})
	reg.Hook(module.SessionClosed, 0, s.sessionClosed)
}

var (
	_ module.Registrar = (*Service)(nil)
	_ module.Service   = (*Service)(nil)
)

// newID returns a unique stanza id (XEP-0359).
func (s *Service) newID() string {
	return s.idPrefix + strconv.FormatUint(s.idSeq.Add(1), 36)
}

// Route implements module.Service: it handles every stanza addressed to a
// service domain. It never returns an error for presence (the router would
// drop it): presence errors are sent here.
func (s *Service) Route(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if err := s.ensureLoaded(ctx); err != nil {
		s.log.Error("loading persistent rooms failed", "err", err)
		return s.fail(ctx, from, to, el, stanza.NewError(stanza.InternalServerError))
	}
	var err error
	switch {
	case to.IsDomain():
		err = s.toService(ctx, from, to, el)
	case to.IsBare():
		err = s.toRoom(ctx, from, to, el)
	default:
		err = s.toOccupant(ctx, from, to, el)
	}
	if err == nil {
		return nil
	}
	se, ok := err.(*stanza.Error)
	if !ok {
		s.log.Error("handling stanza failed", "to", to, "kind", el.Local, "err", err)
		se = stanza.NewError(stanza.InternalServerError)
	}
	return s.fail(ctx, from, to, el, se)
}

// fail answers el with se: presence errors are sent here, other errors are
// returned for the router to bounce. Errors are never answered.
func (s *Service) fail(ctx context.Context, from, to jid.JID, el *stanza.Element, se *stanza.Error) error {
	if el.Attr("type") == stanza.TypeError {
		return nil
	}
	if el.Local != stanza.KindPresence {
		return se
	}
	reply := stanza.ErrorReply(el, se, to, from)
	if x := el.Child(NS, "x"); x != nil {
		reply.Children = append([]stanza.Node{{El: x}}, reply.Children...)
	}
	s.host.Deliver(ctx, from, reply)
	return nil
}

// toService handles stanzas to the service domain itself.
func (s *Service) toService(ctx context.Context, from, to jid.JID, el *stanza.Element) error {
	if el.Local != stanza.KindIQ {
		return nil // nothing to do with messages or presence to the service
	}
	return s.serviceIQ(ctx, from, to, el)
}

// room returns the room, or nil.
func (s *Service) room(j jid.JID) *room {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rooms[j]
}

// addRoom stores r unless a room already exists there; it returns the
// room in the table.
func (s *Service) addRoom(r *room) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.rooms[r.jid]; old != nil {
		return old
	}
	s.rooms[r.jid] = r
	mRooms.Inc()
	return r
}

// countCreated adds n to the rooms user created and reports whether that
// stays within MaxRoomsPerUser (when it does not, nothing is added).
func (s *Service) countCreated(user jid.JID, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > 0 && s.cfg.MaxRoomsPerUser > 0 && !s.admins[user] && s.created[user]+n > s.cfg.MaxRoomsPerUser {
		return false
	}
	s.created[user] += n
	if s.created[user] <= 0 {
		delete(s.created, user)
	}
	return true
}

// HistoryBytes returns the bytes the rooms' history caches hold together.
func (s *Service) HistoryBytes() int64 { return s.cache.Bytes() }

// archiving reports whether r's messages are archived (the archive is on
// and r is persistent), so that its history can be read back after the
// cache is released.
func (s *Service) archiving(r *room) bool { return s.archive != nil && r.persistent.Load() }

// dropRoom removes r from the table (r.mu held, r.gone set).
func (s *Service) dropRoom(r *room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.jid] == r {
		delete(s.rooms, r.jid)
		mRooms.Dec()
		if !r.creator.IsZero() {
			if s.created[r.creator]--; s.created[r.creator] <= 0 {
				delete(s.created, r.creator)
			}
		}
	}
	r.hist.release()
}

// allRooms returns a snapshot of the rooms.
func (s *Service) allRooms() []*room {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		out = append(out, r)
	}
	return out
}

// mayCreate reports whether user may create a room on service domain d.
func (s *Service) mayCreate(user jid.JID, d string) bool {
	if s.admins[user.Bare()] {
		return true
	}
	switch s.cfg.Create {
	case CreateEveryone, "":
		return true
	case CreateLocal:
		return s.host.IsLocal(user.Domain())
	}
	return false
}

// track records that full is (or no longer is) an occupant of r.
func (s *Service) track(full jid.JID, r *room, in bool) {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	set := s.joined[full]
	if in {
		if set == nil {
			set = map[*room]struct{}{}
			s.joined[full] = set
		}
		set[r] = struct{}{}
		return
	}
	delete(set, r)
	if len(set) == 0 {
		delete(s.joined, full)
	}
}

// sessionClosed is the SessionClosed hook: the session's occupants leave
// every room they are in (§7.14), whether or not the unavailable presence
// reached the room.
func (s *Service) sessionClosed(ctx context.Context, ev *module.Event) (bool, error) {
	s.jmu.Lock()
	set := s.joined[ev.Session]
	rooms := make([]*room, 0, len(set))
	for r := range set {
		rooms = append(rooms, r)
	}
	s.jmu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		if o := r.byJID[ev.Session]; o != nil {
			r.leaveSession(ctx, o, ev.Session, nil)
		}
		r.unlock(ctx, nil)
	}
	return false, nil
}

// ensureLoaded loads the persistent rooms once.
func (s *Service) ensureLoaded(ctx context.Context) error {
	s.mu.RLock()
	done := s.loaded
	s.mu.RUnlock()
	if done || s.store == nil {
		return nil
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.mu.RLock()
	done = s.loaded
	s.mu.RUnlock()
	if done {
		return nil
	}
	for d := range s.domains {
		stored, err := s.store.Load(ctx, d)
		if err != nil {
			return fmt.Errorf("muc: load rooms of %s: %w", d, err)
		}
		for _, sr := range stored {
			r, needSave := s.restore(sr)
			s.addRoom(r)
			if !r.creator.IsZero() {
				s.countCreated(r.creator, 1)
			}
			if needSave {
				r.mu.Lock()
				r.save(ctx)
				if err := r.unlock(ctx, nil); err != nil {
					return fmt.Errorf("muc: store the occupant-id secret of %s: %w", r.jid, err)
				}
			}
		}
	}
	s.mu.Lock()
	s.loaded = true
	s.mu.Unlock()
	return nil
}
