package pubsub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// Namespaces of XEP-0115 and XEP-0390.
const (
	NSCaps   = "http://jabber.org/protocol/caps"
	NSCaps2  = "urn:xmpp:caps"
	nsHashes = "urn:xmpp:hashes:2"
)

// capsRef is one capability hash a client advertised: the cache key
// ("algo value"), the node to query disco#info at, and which algorithm
// builds the hash input (XEP-0115 or XEP-0390).
type capsRef struct {
	key   string
	algo  string
	value string
	node  string
	v2    bool
}

// parseCaps reads the entity capabilities of a presence: a XEP-0390 <c/>
// is preferred (its first hash with a known function), else a XEP-0115
// <c/> with a 'hash' (legacy ones without it cannot be verified and are
// ignored).
func parseCaps(pres *stanza.Element) (capsRef, bool) {
	if c := pres.Child(NSCaps2, "c"); c != nil {
		for _, h := range c.ChildElements() {
			algo := h.Attr("algo")
			if h.Local != "hash" || h.Space != nsHashes || hasher(algo) == nil {
				continue
			}
			v := strings.TrimSpace(h.Text())
			if v == "" || len(v) > 256 {
				continue
			}
			return capsRef{key: "caps2 " + algo + " " + v, algo: algo, value: v, node: NSCaps2 + "#" + algo + "." + v, v2: true}, true
		}
	}
	c := pres.Child(NSCaps, "c")
	if c == nil {
		return capsRef{}, false
	}
	algo, ver, node := c.Attr("hash"), c.Attr("ver"), c.Attr("node")
	if hasher(algo) == nil || ver == "" || len(ver) > 256 || len(node) > 1024 {
		return capsRef{}, false
	}
	return capsRef{key: algo + " " + ver, algo: algo, value: ver, node: node + "#" + ver}, true
}

// hasher returns the hash function named by a XEP-0300 algorithm name,
// or nil for one this server does not know.
func hasher(algo string) func() hash.Hash {
	switch algo {
	case "sha-1":
		return sha1.New
	case "sha-256":
		return sha256.New
	case "sha-512":
		return sha512.New
	case "sha3-256":
		return func() hash.Hash { return sha3.New256() }
	case "sha3-512":
		return func() hash.Hash { return sha3.New512() }
	}
	return nil
}

var errBadInfo = errors.New("pubsub: disco#info cannot be hashed")

// verify reports whether info (a disco#info <query/>) hashes to ref.
func verify(ref capsRef, info *stanza.Element) bool {
	var input []byte
	var err error
	if ref.v2 {
		input, err = caps2Input(info)
	} else {
		input, err = caps1Input(info)
	}
	h := hasher(ref.algo)
	if err != nil || h == nil {
		return false
	}
	d := h()
	d.Write(input)
	return base64.StdEncoding.EncodeToString(d.Sum(nil)) == ref.value
}

// discoParts splits a disco#info query into identities, features and
// XEP-0128 forms, rejecting what XEP-0115 §5.4 and XEP-0390 §4.1 reject:
// other children, duplicate identities or features, forms without one
// hidden FORM_TYPE, or with reported/item.
type identity struct{ category, typ, lang, name string }

type extForm struct {
	formType string
	fields   map[string][]string
}

func discoParts(info *stanza.Element) (ids []identity, feats []string, forms []extForm, err error) {
	seenID, seenF := map[identity]bool{}, map[string]bool{}
	for _, c := range info.ChildElements() {
		switch {
		case c.Space == nsInfo && c.Local == "identity":
			id := identity{c.Attr("category"), c.Attr("type"), xmlLang(c), c.Attr("name")}
			if seenID[id] {
				return nil, nil, nil, errBadInfo
			}
			seenID[id] = true
			ids = append(ids, id)
		case c.Space == nsInfo && c.Local == "feature":
			f := c.Attr("var")
			if seenF[f] {
				return nil, nil, nil, errBadInfo
			}
			seenF[f] = true
			feats = append(feats, f)
		case c.Space == NSData && c.Local == "x":
			f, err := parseExtForm(c)
			if err != nil {
				return nil, nil, nil, err
			}
			forms = append(forms, f)
		default:
			return nil, nil, nil, errBadInfo
		}
	}
	return ids, feats, forms, nil
}

func xmlLang(el *stanza.Element) string {
	for _, a := range el.Attrs {
		if a.Space == stanza.NSXML && a.Local == "lang" {
			return a.Value
		}
	}
	return ""
}

func parseExtForm(x *stanza.Element) (extForm, error) {
	f := extForm{fields: map[string][]string{}}
	hasType := false
	for _, fld := range x.ChildElements() {
		if fld.Local == "reported" || fld.Local == "item" {
			return extForm{}, errBadInfo
		}
		if fld.Local != "field" {
			continue
		}
		var vals []string
		for _, v := range fld.ChildElements() {
			if v.Local == "value" {
				vals = append(vals, v.Text())
			}
		}
		if fld.Attr("var") == fieldFormType {
			if hasType || len(vals) != 1 || fld.Attr("type") != "hidden" {
				return extForm{}, errBadInfo
			}
			hasType, f.formType = true, vals[0]
			continue
		}
		f.fields[fld.Attr("var")] = vals
	}
	if !hasType {
		return extForm{}, errBadInfo
	}
	return f, nil
}

// caps1Input is the XEP-0115 §5.1 verification string.
func caps1Input(info *stanza.Element) ([]byte, error) {
	ids, feats, forms, err := discoParts(info)
	if err != nil {
		return nil, err
	}
	var idStrs []string
	for _, id := range ids {
		idStrs = append(idStrs, id.category+"/"+id.typ+"/"+id.lang+"/"+id.name)
	}
	slices.Sort(idStrs)
	slices.Sort(feats)
	var b bytes.Buffer
	for _, s := range idStrs {
		b.WriteString(s + "<")
	}
	for _, f := range feats {
		b.WriteString(f + "<")
	}
	slices.SortFunc(forms, func(a, b extForm) int { return strings.Compare(a.formType, b.formType) })
	for i, f := range forms {
		if i > 0 && forms[i-1].formType == f.formType {
			return nil, errBadInfo
		}
		b.WriteString(f.formType + "<")
		for _, v := range slices.Sorted(maps.Keys(f.fields)) {
			b.WriteString(v + "<")
			vals := slices.Clone(f.fields[v])
			slices.Sort(vals)
			for _, val := range vals {
				b.WriteString(val + "<")
			}
		}
	}
	return b.Bytes(), nil
}

// caps2Input is the XEP-0390 §4.1 hash function input.
func caps2Input(info *stanza.Element) ([]byte, error) {
	ids, feats, forms, err := discoParts(info)
	if err != nil {
		return nil, err
	}
	const us, rs, gs, fs = "\x1f", "\x1e", "\x1d", "\x1c"
	var parts []string
	for _, f := range feats {
		parts = append(parts, f+us)
	}
	out := joinSorted(parts) + fs
	parts = parts[:0]
	for _, id := range ids {
		parts = append(parts, id.category+us+id.typ+us+id.lang+us+id.name+us+rs)
	}
	out += joinSorted(parts) + fs
	var formStrs []string
	for _, f := range forms {
		var fieldStrs []string
		f.fields[fieldFormType] = []string{f.formType}
		for v, vals := range f.fields {
			var vs []string
			for _, val := range vals {
				vs = append(vs, val+us)
			}
			fieldStrs = append(fieldStrs, v+us+joinSorted(vs)+rs)
		}
		formStrs = append(formStrs, joinSorted(fieldStrs)+gs)
	}
	return []byte(out + joinSorted(formStrs) + fs), nil
}

func joinSorted(s []string) string {
	s = slices.Clone(s)
	slices.Sort(s)
	return strings.Join(s, "")
}

// capsCache maps verified capability hashes to the features they stand
// for, in memory (bounded) over the pubsub_caps table.
type capsCache struct {
	store *Store
	mu    sync.Mutex
	known map[string]map[string]bool // key → feature set
}

// maxCachedCaps bounds the verified hashes kept in memory.
const maxCachedCaps = 4096

func newCapsCache(s *Store) *capsCache {
	return &capsCache{store: s, known: map[string]map[string]bool{}}
}

// features returns the features of a verified hash: from memory, else
// from the store (nil, false when unknown).
func (c *capsCache) features(ctx context.Context, key string) (map[string]bool, bool, error) {
	c.mu.Lock()
	f, ok := c.known[key]
	c.mu.Unlock()
	if ok {
		return f, true, nil
	}
	data, found, err := c.store.Caps(ctx, key)
	if err != nil || !found {
		return nil, false, err
	}
	els, err := storage.DecodeElements(data)
	if err != nil || len(els) != 1 {
		return nil, false, nil // unreadable: ask again
	}
	f = featureSet(els[0])
	c.remember(key, f)
	return f, true, nil
}

// lookup is features from memory only (the fan-out's path).
func (c *capsCache) lookup(key string) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known[key]
}

func (c *capsCache) remember(key string, f map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.known) >= maxCachedCaps {
		for k := range c.known { // drop one; the store still has it
			delete(c.known, k)
			break
		}
	}
	c.known[key] = f
}

// put stores a verified disco#info.
func (c *capsCache) put(ctx context.Context, key string, info *stanza.Element) error {
	if err := c.store.PutCaps(ctx, key, storage.EncodeElements(info)); err != nil {
		return err
	}
	c.remember(key, featureSet(info))
	return nil
}

func featureSet(info *stanza.Element) map[string]bool {
	f := map[string]bool{}
	for _, c := range info.ChildElements() {
		if c.Local == "feature" {
			f[c.Attr("var")] = true
		}
	}
	return f
}
