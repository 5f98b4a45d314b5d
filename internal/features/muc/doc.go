// Package muc is the group chat service: XEP-0045 Multi-User Chat, served
// as a module.Service on a domain of its own (conference.<domain> by
// default, listed in the served domain's disco#items, XEP-0030 §4 and
// XEP-0045 §6.1).
//
// It owns the rooms: their occupants (nickname, real JID, role), their
// configuration and affiliations, the in-memory message history and the
// subject. It implements, of XEP-0045:
//
//   - discovery of the service, its public rooms and each room (§6.1-§6.5,
//     muc#roominfo);
//   - entering a room (§7.2): presence broadcast, status codes 100, 110 and
//     201 (no 170: rooms are not logged; no 210: the room never changes a
//     nickname), the join errors of §7.2.6-§7.2.11, several sessions of
//     one user under one nickname (multi-session: one occupant, seen once,
//     every session gets the room's stanzas, one leaving keeps the others),
//     history with maxchars/maxstanzas/seconds/since and XEP-0203 delays
//     (§7.2.15), the subject after the history (§7.2.16);
//   - occupant presence updates, nickname changes (303) and leaving (§7.3,
//     §7.6, §7.7, §7.14), also when the user's session ends without a word;
//   - groupchat messages with XEP-0359 stanza ids by the room and XEP-0421
//     occupant ids (§7.4), private messages and iqs to an occupant (§7.5;
//     a private message to a local user is first archived in that user's
//     archive through Config.ArchivePrivate, outside the room's lock);
//   - subject changes (§8.1), kicking (§8.2), voice (§8.3-§8.5), moderator
//     grants (§9.6-§9.7), bans, members, admins and owners (§9.1-§9.5,
//     §10.3-§10.7) with their notifications (301, 307, 321, 322);
//   - room creation, instant and reserved rooms with locking until the owner
//     configures them (§10.1), the muc#roomconfig form (§10.2, status 104)
//     and destruction (§10.9);
//   - mediated invitations and declines (§7.8.2; XEP-0249 direct
//     invitations go from user to user and never touch the room);
//   - registration with a room (§7.10, jabber:iq:register with the
//     muc#register form) and reserved nicknames (§7.12: conflict for
//     others, the x-roomuser-item node);
//   - voice requests by the muc#request form, approved by a moderator
//     (§8.6);
//   - XEP-0410 self-pings answered by the room for its occupants
//     (not-acceptable for anyone else);
//   - limits: rooms created per user (resource-constraint), occupants per
//     room (service-unavailable, §7.2 "Max Users"), groupchat messages per occupant
//     (a token bucket; resource-constraint).
//
// Persistent rooms (muc#roomconfig_persistentroom) keep their configuration,
// subject, affiliations, registrations and the secret that keys their
// XEP-0421 occupant ids (so the ids survive a restart) in the database
// (Store) and are loaded when the service first handles a stanza;
// temporary rooms live in memory and go when their last occupant leaves.
//
// History lives in a cache bounded per room (messages and bytes) and over
// all rooms (historyCache): past the total, the caches of rooms nobody is
// in are evicted first.
//
// Each room has one mutex: everything that changes a room, and every
// broadcast from it, happens under it, so occupants see a room's stanzas in
// one order. Deliveries only queue (module.Host.Deliver), so the lock is never
// held across network I/O, nor across the database: a change to store is
// snapshotted under the lock and written after it is released (room.unlock,
// ordered per room by a version), and a request is answered once its
// change is stored. Lock order: room.mu → Service.mu, room.mu → jmu,
// room.mu → history.mu (a leaf); saveMu is taken with no room lock held.
package muc
