package storagetest

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/storage"
)

// pushDevice is a device of owner (an account the case created).
func pushDevice(e *Env, node string, owner string, t *testing.T) storage.PushDevice {
	h := sha256.Sum256([]byte("secret of " + node))
	return storage.PushDevice{Node: e.Domain + "-" + node, Owner: e.JID(t, owner+"@"+e.Domain), Provider: "apns", Token: "tok-" + node,
		Topic: "org.example.app", Sandbox: true, SecretHash: h[:], Created: time.Now().Truncate(time.Millisecond)}
}

var pushDeviceCases = []Case{
	{"pushdevices/add get list disable delete", func(t *testing.T, e *Env) {
		p := e.DB.PushDevices()
		e.User(t, "pa")
		d := pushDevice(e, "n1", "pa", t)
		if err := p.Add(e.Ctx, d, 2); err != nil {
			t.Fatal(err)
		}
		got, found, err := p.Get(e.Ctx, d.Node)
		if err != nil || !found {
			t.Fatalf("Get = %v, %v", found, err)
		}
		if got.Owner != d.Owner || got.Provider != "apns" || got.Token != d.Token || got.Topic != d.Topic || !got.Sandbox ||
			string(got.SecretHash) != string(d.SecretHash) || !got.Created.Equal(d.Created) || !got.Disabled.IsZero() {
			t.Errorf("stored %+v, got %+v", d, got)
		}
		if err := p.Add(e.Ctx, d, 0); err == nil {
			t.Error("a node added twice")
		}
		d2 := pushDevice(e, "n2", "pa", t)
		d2.Provider, d2.Topic, d2.Sandbox = "fcm", "", false
		if err := p.Add(e.Ctx, d2, 2); err != nil {
			t.Fatal(err)
		}
		if err := p.Add(e.Ctx, pushDevice(e, "n3", "pa", t), 2); !errors.Is(err, storage.ErrLimit) {
			t.Errorf("third device: %v, want ErrLimit", err)
		}
		list, err := p.List(e.Ctx, d.Owner)
		if err != nil || len(list) != 2 || list[1].Provider != "fcm" || list[1].Sandbox {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if ok, err := p.Disable(e.Ctx, d.Node, time.Now()); err != nil || !ok {
			t.Fatalf("Disable = %v, %v", ok, err)
		}
		if ok, err := p.Disable(e.Ctx, d.Node, time.Now()); err != nil || ok {
			t.Errorf("second Disable = %v, %v", ok, err)
		}
		if got, _, _ := p.Get(e.Ctx, d.Node); got.Disabled.IsZero() {
			t.Error("disabled device reads enabled")
		}
		other := e.User(t, "pb")
		if ok, err := p.Delete(e.Ctx, other, d.Node); err != nil || ok {
			t.Errorf("Delete by another account = %v, %v", ok, err)
		}
		if ok, err := p.Delete(e.Ctx, d.Owner, d.Node); err != nil || !ok {
			t.Errorf("Delete = %v, %v", ok, err)
		}
		if _, found, err := p.Get(e.Ctx, d.Node); err != nil || found {
			t.Errorf("Get after Delete = %v, %v", found, err)
		}
	}},
	{"pushdevices/bad input and replace", func(t *testing.T, e *Env) {
		p := e.DB.PushDevices()
		u := e.User(t, "pc")
		e.User(t, "pd")
		for _, bad := range []func(*storage.PushDevice){
			func(d *storage.PushDevice) { d.Node = "" },
			func(d *storage.PushDevice) { d.Provider = "sms" },
			func(d *storage.PushDevice) { d.Token = "" },
			func(d *storage.PushDevice) { d.SecretHash = []byte("short") },
		} {
			d := pushDevice(e, "bad", "pc", t)
			bad(&d)
			if err := p.Add(e.Ctx, d, 0); err == nil {
				t.Errorf("Add(%+v) accepted", d)
			}
		}
		if err := p.Add(e.Ctx, pushDevice(e, "old", "pc", t), 0); err != nil {
			t.Fatal(err)
		}
		taken := pushDevice(e, "taken", "pd", t)
		if err := p.Add(e.Ctx, taken, 0); err != nil {
			t.Fatal(err)
		}
		n := pushDevice(e, "new", "pc", t)
		n.Disabled = n.Created
		if err := p.Replace(e.Ctx, u, []storage.PushDevice{n}); err != nil {
			t.Fatal(err)
		}
		list, err := p.List(e.Ctx, u)
		if err != nil || len(list) != 1 || list[0].Node != n.Node || !list[0].Disabled.Equal(n.Created) {
			t.Fatalf("after Replace: %+v, %v", list, err)
		}
		steal := taken
		steal.Owner = u
		if err := p.Replace(e.Ctx, u, []storage.PushDevice{steal}); err == nil {
			t.Error("Replace took another account's node")
		}
		if list, _ := p.List(e.Ctx, u); len(list) != 1 {
			t.Errorf("a failed Replace changed the devices: %+v", list)
		}
		if err := p.Replace(e.Ctx, u, []storage.PushDevice{taken}); err == nil {
			t.Error("Replace accepted a device owned by another account")
		}
	}},
}
