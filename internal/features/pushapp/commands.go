package pushapp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/parleyim/parley/internal/features/adhoc"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// The registration commands (XEP-0050 on the user's server JID).
const (
	CommandAPNs       = "register-push-apns"
	CommandFCM        = "register-push-fcm"
	CommandUnregister = "unregister-push"
)

// addCommands adds the commands for the configured providers.
func (m *Module) addCommands() {
	if m.providers["apns"] != nil {
		m.cfg.Commands.Add(adhoc.Command{Node: CommandAPNs, Name: "Register a device for push notifications (APNs)",
			Form: func(context.Context, jid.JID) *stanza.Element {
				return form("form", "Register an iOS device: the device token APNs gave the app, the app's bundle id.",
					field("token", "text-single", "Device token", ""), field("topic", "text-single", "APNs topic (bundle id)", ""),
					field("sandbox", "boolean", "APNs development environment", "0"))
			},
			Submit: func(ctx context.Context, from jid.JID, domain string, f map[string][]string) (adhoc.Result, error) {
				return m.register(ctx, from, domain, "apns", f)
			}})
	}
	if m.providers["fcm"] != nil {
		m.cfg.Commands.Add(adhoc.Command{Node: CommandFCM, Name: "Register a device for push notifications (FCM)",
			Form: func(context.Context, jid.JID) *stanza.Element {
				return form("form", "Register an Android device: the registration token FCM gave the app.",
					field("token", "text-single", "Registration token", ""))
			},
			Submit: func(ctx context.Context, from jid.JID, domain string, f map[string][]string) (adhoc.Result, error) {
				return m.register(ctx, from, domain, "fcm", f)
			}})
	}
	m.cfg.Commands.Add(adhoc.Command{Node: CommandUnregister, Name: "Unregister a device from push notifications",
		Form: func(context.Context, jid.JID) *stanza.Element {
			return form("form", "The node the device was registered with.", field("node", "text-single", "Node", ""))
		},
		Submit: m.unregister})
}

func form(typ, instructions string, fields ...*stanza.Element) *stanza.Element {
	x := stanza.New(nsData, "x").SetAttr("type", typ)
	if instructions != "" {
		x.Append(stanza.New(nsData, "instructions").AppendText(instructions))
	}
	return x.Append(fields...)
}

func field(v, typ, label, value string) *stanza.Element {
	f := stanza.New(nsData, "field").SetAttr("var", v).SetAttr("type", typ)
	if label != "" {
		f.SetAttr("label", label)
	}
	return f.Append(stanza.New(nsData, "value").AppendText(value))
}

func first(f map[string][]string, k string) string {
	if len(f[k]) == 0 {
		return ""
	}
	return f[k][0]
}

// local refuses a requester who is not an account of this server: the
// device belongs to an account.
func (m *Module) local(ctx context.Context, from jid.JID, domain string) error {
	ok, err := m.cfg.Host.AccountExists(ctx, from.Bare())
	if err != nil {
		return fmt.Errorf("pushapp: account %s: %w", from.Bare(), err)
	}
	if !ok || from.Domain() != domain {
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "only accounts of %s register devices here", domain)
	}
	return nil
}

// register stores a device and answers the app server's JID, the node
// and the secret to enable push with (XEP-0357 §5).
func (m *Module) register(ctx context.Context, from jid.JID, domain, provider string, f map[string][]string) (adhoc.Result, error) {
	if err := m.local(ctx, from, domain); err != nil {
		return adhoc.Result{}, err
	}
	d := storage.PushDevice{Owner: from.Bare(), Provider: provider, Token: first(f, "token"), Created: m.cfg.Now()}
	if provider == "apns" {
		d.Topic = first(f, "topic")
		s := first(f, "sandbox")
		d.Sandbox = s == "1" || s == "true"
		if d.Topic == "" || len(d.Topic) > storage.MaxPushTopicBytes {
			return adhoc.Result{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "an APNs device needs its topic (the app's bundle id, at most %d bytes)", storage.MaxPushTopicBytes)
		}
	}
	if d.Token == "" || len(d.Token) > storage.MaxPushTokenBytes {
		return adhoc.Result{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "the device token is required (at most %d bytes)", storage.MaxPushTokenBytes)
	}
	secret := random(32)
	sum := sha256.Sum256([]byte(secret))
	d.SecretHash = sum[:]
	d.Node = random(16)
	err := m.devices.Add(ctx, d, m.cfg.App.MaxRegistrationsPerUser)
	switch {
	case errors.Is(err, storage.ErrLimit):
		return adhoc.Result{}, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "at most %d devices per account; unregister one first", m.cfg.App.MaxRegistrationsPerUser)
	case err != nil:
		return adhoc.Result{}, fmt.Errorf("pushapp: register: %w", err)
	}
	m.cfg.Log.Info("pushapp: device registered", "owner", d.Owner, "provider", provider, "node", d.Node)
	return adhoc.Result{Note: "Device registered: enable push notifications (XEP-0357) with this jid, node and secret.",
		Form: form("result", "", field("jid", "jid-single", "App server", m.cfg.App.Subdomain+"."+domain),
			field("node", "text-single", "Node", d.Node), field("secret", "text-private", "Secret", secret))}, nil
}

// unregister removes one of the requester's devices.
func (m *Module) unregister(ctx context.Context, from jid.JID, domain string, f map[string][]string) (adhoc.Result, error) {
	if err := m.local(ctx, from, domain); err != nil {
		return adhoc.Result{}, err
	}
	ok, err := m.devices.Delete(ctx, from.Bare(), first(f, "node"))
	if err != nil {
		return adhoc.Result{}, fmt.Errorf("pushapp: unregister: %w", err)
	}
	if !ok {
		return adhoc.Result{}, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no device of yours at that node")
	}
	return adhoc.Result{Note: "Device unregistered."}, nil
}

// random returns n random bytes in base64url.
func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
