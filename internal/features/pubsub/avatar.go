package pubsub

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of XEP-0054 and XEP-0153.
const (
	nsVCard       = "vcard-temp"
	nsVCardUpdate = "vcard-temp:x:update"
)

// VCards is what the XEP-0153 avatar hash needs of the vCard module.
type VCards interface {
	// VCard returns user's stored vCard, or nil when there is none.
	VCard(ctx context.Context, user jid.JID) (*stanza.Element, error)
}

// maxAvatarHashes bounds the cached hashes.
const maxAvatarHashes = 65536

// avatars computes and caches the XEP-0153 photo hash of each user.
type avatars struct {
	vcards VCards
	mu     sync.Mutex
	hashes map[jid.JID]avatarHash
}

type avatarHash struct {
	hash  string
	vcard bool // a vCard is stored
}

func newAvatars(v VCards) *avatars {
	return &avatars{vcards: v, hashes: map[jid.JID]avatarHash{}}
}

// stamp adds <x xmlns='vcard-temp:x:update'><photo>hash</photo></x> to an
// available presence of user that carries none (XEP-0153 §3.2, the
// server acting for clients that do not).
func (a *avatars) stamp(ctx context.Context, user jid.JID, pres *stanza.Element) {
	if pres.Child(nsVCardUpdate, "x") != nil {
		return
	}
	h, ok := a.hash(ctx, user)
	if !ok {
		return
	}
	photo := stanza.New(nsVCardUpdate, "photo")
	if h != "" {
		photo.AppendText(h)
	}
	pres.Append(stanza.New(nsVCardUpdate, "x").Append(photo))
}

// hash returns user's photo hash ("" for a vCard without a photo); ok is
// false when user has no vCard.
func (a *avatars) hash(ctx context.Context, user jid.JID) (string, bool) {
	a.mu.Lock()
	h, cached := a.hashes[user]
	a.mu.Unlock()
	if cached {
		return h.hash, h.vcard
	}
	v, err := a.vcards.VCard(ctx, user)
	if err != nil {
		return "", false
	}
	if v != nil {
		h = avatarHash{hash: photoHash(v), vcard: true}
	}
	a.mu.Lock()
	if len(a.hashes) >= maxAvatarHashes {
		clear(a.hashes)
	}
	a.hashes[user] = h
	a.mu.Unlock()
	return h.hash, h.vcard
}

// cached returns user's cached hash, if any, without reading the vCard.
func (a *avatars) cached(user jid.JID) (avatarHash, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.hashes[user]
	return h, ok
}

// forget drops user's cached hash (after a vCard change).
func (a *avatars) forget(user jid.JID) {
	a.mu.Lock()
	delete(a.hashes, user)
	a.mu.Unlock()
}

// photoHash is the hex SHA-1 of the vCard's PHOTO/BINVAL, "" without one.
func photoHash(v *stanza.Element) string {
	p := v.Child(nsVCard, "PHOTO")
	if p == nil {
		return ""
	}
	b64 := strings.Join(strings.Fields(p.ChildText(nsVCard, "BINVAL")), "")
	if b64 == "" {
		return ""
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return ""
	}
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// vcardChanged forgets the hash of a user who sets a vCard, once the set
// is handled.
func (m *Module) vcardChanged(ctx context.Context, ev *module.Event) {
	if m.avatars == nil || ev.Stanza.Attr("type") != stanza.Set {
		return
	}
	if p := ev.Stanza.FirstChild(); p == nil || p.Space != nsVCard || p.Local != "vCard" {
		return
	}
	user := ev.From.Bare()
	module.AfterReply(ctx, func() {
		old, known := m.avatars.cached(user)
		m.avatars.forget(user)
		m.republishAvatar(ctx, user, old, known)
	})
}

// republishAvatar sends the presence of user's available sessions again
// with the new photo hash after a vCard change (XEP-0153 §3.2, the server
// acting for clients that do not): a presence without the update element
// gets one; one whose hash is the old vCard's gets the new one; a hash of
// the client's own that is not the old one is left alone.
func (m *Module) republishAvatar(ctx context.Context, user jid.JID, old avatarHash, known bool) {
	if m.cfg.Republish == nil {
		return
	}
	h, ok := m.avatars.hash(ctx, user)
	if !ok || known && old.vcard && old.hash == h {
		return
	}
	for _, s := range m.cfg.Host.Sessions(user) {
		m.cfg.Republish(ctx, s.JID(), func(p *stanza.Element) bool {
			x := p.Child(nsVCardUpdate, "x")
			switch {
			case x == nil:
			case known && old.vcard && x.ChildText(nsVCardUpdate, "photo") == old.hash:
				p.RemoveChildren(func(c *stanza.Element) bool { return c == x })
			default:
				return false
			}
			m.avatars.stamp(ctx, user, p)
			return true
		})
	}
}

func encode(el *stanza.Element) []byte { return storage.EncodeElements(el) }
