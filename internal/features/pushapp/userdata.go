package pushapp

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NSPortable is Parley's XEP-0227 element for a device registered with
// the app server: <device xmlns='urn:xmpp:parley:pie:push-device:0'
// node provider token topic sandbox created disabled secret-sha256/>
// (times in RFC 3339, the secret's hash in base64; the secret itself is
// not stored anywhere).
const NSPortable = "urn:xmpp:parley:pie:push-device:0"

// UserData is the app server's section of XEP-0227 import and export: the
// devices the user registered. It works whether or not the app server is
// enabled.
type UserData struct{ devices *storage.PushDevices }

// NewUserData returns the section over db.
func NewUserData(db *storage.DB) *UserData { return &UserData{devices: db.PushDevices()} }

var _ module.UserData = (*UserData)(nil)

// ExportUser returns user's devices.
func (u *UserData) ExportUser(ctx context.Context, user jid.JID) ([]*stanza.Element, error) {
	ds, err := u.devices.List(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("pushapp: export %s: %w", user, err)
	}
	out := make([]*stanza.Element, 0, len(ds))
	for _, d := range ds {
		el := stanza.New(NSPortable, "device").SetAttr("node", d.Node).SetAttr("provider", d.Provider).
			SetAttr("token", d.Token).SetAttr("topic", d.Topic).SetAttr("sandbox", strconv.FormatBool(d.Sandbox)).
			SetAttr("created", d.Created.UTC().Format(time.RFC3339Nano)).
			SetAttr("secret-sha256", base64.StdEncoding.EncodeToString(d.SecretHash))
		if !d.Disabled.IsZero() {
			el.SetAttr("disabled", d.Disabled.UTC().Format(time.RFC3339Nano))
		}
		out = append(out, el)
	}
	return out, nil
}

// Accepts takes <device xmlns='urn:xmpp:parley:pie:push-device:0'/>.
func (u *UserData) Accepts(el *stanza.Element) bool {
	return el.Space == NSPortable && el.Local == "device"
}

// PlanImport replaces user's devices with the valid ones of els.
func (u *UserData) PlanImport(user jid.JID, els []*stanza.Element, note func(string)) func(context.Context) error {
	var ds []storage.PushDevice
	for _, el := range els {
		d, err := parseDevice(user, el)
		if err != nil {
			note(fmt.Sprintf("push device %q left out: %v", el.Attr("node"), err))
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return nil
	}
	return func(ctx context.Context) error { return u.devices.Replace(ctx, user, ds) }
}

func parseDevice(user jid.JID, el *stanza.Element) (storage.PushDevice, error) {
	d := storage.PushDevice{Node: el.Attr("node"), Owner: user.Bare(), Provider: el.Attr("provider"),
		Token: el.Attr("token"), Topic: el.Attr("topic"), Sandbox: el.Attr("sandbox") == "true"}
	var err error
	if d.Created, err = time.Parse(time.RFC3339Nano, el.Attr("created")); err != nil {
		return d, fmt.Errorf("bad created: %w", err)
	}
	if s := el.Attr("disabled"); s != "" {
		if d.Disabled, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return d, fmt.Errorf("bad disabled: %w", err)
		}
	}
	if d.SecretHash, err = base64.StdEncoding.DecodeString(el.Attr("secret-sha256")); err != nil || len(d.SecretHash) != 32 {
		return d, fmt.Errorf("secret-sha256 is not 32 bytes of base64")
	}
	switch {
	case d.Provider != "apns" && d.Provider != "fcm":
		return d, fmt.Errorf("provider %q is not apns or fcm", d.Provider)
	case d.Node == "" || len(d.Node) > storage.MaxPushNodeBytes || d.Token == "" || len(d.Token) > storage.MaxPushTokenBytes ||
		len(d.Topic) > storage.MaxPushTopicBytes:
		return d, fmt.Errorf("node, token or topic empty or too long")
	}
	return d, nil
}
