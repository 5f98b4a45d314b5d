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
//     nickname), the join errors of §7.2.6-§7.2.11,
//     history with maxchars/maxstanzas/seconds/since and XEP-0203 delays
//     (§7.2.15), the subject after the history (§7.2.16);
//   - occupant presence updates, nickname changes (303) and leaving (§7.3,
//     §7.6, §7.7, §7.14), also when the user's session ends without a word;
//   - groupchat messages with XEP-0359 stanza ids by the room and XEP-0421
//     occupant ids (§7.4), private messages and iqs to an occupant (§7.5);
//   - subject changes (§8.1), kicking (§8.2), voice (§8.3-§8.5), moderator
//     grants (§9.6-§9.7), bans, members, admins and owners (§9.1-§9.5,
//     §10.3-§10.7) with their notifications (301, 307, 321, 322);
//   - room creation, instant and reserved rooms with locking until the owner
//     configures them (§10.1), the muc#roomconfig form (§10.2, status 104)
//     and destruction (§10.9);
//   - mediated invitations (§7.8.2).
//
// Persistent rooms (muc#roomconfig_persistentroom) keep their configuration,
// subject and affiliations in the database (Store) and are loaded when the
// service first handles a stanza; temporary rooms live in memory and go
// when their last occupant leaves. History is never stored.
//
// Each room has one mutex: everything that changes a room, and every
// broadcast from it, happens under it, so occupants see a room's stanzas in
// one order. Deliveries only queue (module.Host.Deliver), so the lock is never
// held across network I/O; a persistent room's database writes are.
//
// It does not implement voice requests by message form (§8.6), direct or
// declined invitations, registration with the room (§7.10), several
// sessions under one nickname, or message archives of rooms.
package muc
