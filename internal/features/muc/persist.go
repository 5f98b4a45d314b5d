package muc

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// persistOp is a write of a persistent room decided under the room's lock
// and carried out after it is released (unlock): the room never waits on
// the database. ver orders the writes of one room: an older snapshot that
// loses the race to saveMu is skipped.
type persistOp struct {
	ver  uint64
	snap *StoredRoom // nil: delete the room
}

var randRead = func(b []byte) { rand.Read(b) }

// snapshot is what Save needs of r (r.mu held).
func (r *room) snapshot() *StoredRoom {
	sr := &StoredRoom{Room: r.jid, Config: r.cfg, Subject: r.subject, SubjectBy: r.subjectBy,
		Affiliations:  make(map[jid.JID]Affiliation, len(r.affs)),
		Reasons:       make(map[jid.JID]string, len(r.reasons)),
		Registrations: make(map[jid.JID]string, len(r.regs)), Secret: r.secret}
	for j, a := range r.affs {
		sr.Affiliations[j] = a
	}
	for j, s := range r.reasons {
		sr.Reasons[j] = s
	}
	for j, n := range r.regs {
		sr.Registrations[j] = n
	}
	return sr
}

// save marks a persistent room to be stored when its lock is released
// (r.mu held).
func (r *room) save(context.Context) {
	if !r.cfg.Persistent || r.svc.store == nil {
		return
	}
	r.ver++
	r.op = &persistOp{ver: r.ver, snap: r.snapshot()}
}

// forget marks a room that stopped being persistent or was destroyed to be
// deleted from storage when its lock is released (r.mu held).
func (r *room) forget(context.Context) {
	if r.svc.store == nil {
		return
	}
	r.ver++
	r.op = &persistOp{ver: r.ver}
}

// unlock releases r.mu and then carries out the write decided under it,
// if any, and the archiving of groupchat messages it became the writer of. It returns err, or internal-server-error when err is nil and the
// write failed, so that a request is answered only once what it changed is
// stored.
func (r *room) unlock(ctx context.Context, err error) error {
	op, flush, pm := r.op, r.flushMine, r.pm
	r.op, r.flushMine, r.pm = nil, false, nil
	r.mu.Unlock()
	if flush {
		r.flushArchive(ctx)
	}
	if pm != nil && err == nil {
		err = r.sendPrivate(ctx, pm)
	}
	if op == nil {
		return err
	}
	if werr := r.persist(ctx, op); werr != nil {
		r.svc.log.Error("storing room failed", "room", r.jidStr, "err", werr)
		if err == nil {
			return errorf(stanza.InternalServerError, "the room's change could not be stored")
		}
	}
	return err
}

// persist writes op unless a newer write of the room got there first.
func (r *room) persist(ctx context.Context, op *persistOp) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if op.ver <= r.saved {
		return nil
	}
	var err error
	if op.snap == nil {
		err = r.svc.store.Delete(ctx, r.jid)
		if err == nil && r.svc.archive != nil {
			_, err = r.svc.archive.Purge(ctx, r.jid, time.Time{})
		}
	} else {
		err = r.svc.store.Save(ctx, *op.snap)
	}
	if err == nil {
		r.saved = op.ver
	}
	return err
}

// restore builds the in-memory room of a stored one. A room stored
// without a secret gets one now; needSave reports it must be stored.
func (s *Service) restore(sr StoredRoom) (r *room, needSave bool) {
	r = s.newRoom(sr.Room)
	r.cfg, r.subject, r.subjectBy = sr.Config, sr.Subject, sr.SubjectBy
	r.cfg.Persistent = true
	r.persistent.Store(true)
	r.hist.release() // cold: history comes from the archive, if any
	if r.cfg.MaxUsers <= 0 || r.cfg.MaxUsers > s.cfg.MaxOccupants {
		r.cfg.MaxUsers = s.cfg.MaxOccupants
	}
	for j, a := range sr.Affiliations {
		r.affs[j] = a
		if a == AffOwner && r.creator.IsZero() {
			r.creator = j
		}
	}
	for j, reason := range sr.Reasons {
		r.reasons[j] = reason
	}
	for j, n := range sr.Registrations {
		r.regs[j] = n
	}
	if len(sr.Secret) > 0 {
		r.secret = sr.Secret
	}
	return r, len(sr.Secret) == 0
}
