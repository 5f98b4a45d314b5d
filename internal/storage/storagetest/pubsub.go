package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/features/pubsub"
	"github.com/parleyim/parley/internal/storage"
)

var pubsubCases = []Case{
	{"pubsub/nodes create limit config delete", func(t *testing.T, e *Env) {
		s := pubsub.NewStore(e.DB)
		svc, other := e.User(t, "alice").String(), "pubsub."+e.Domain
		cfg := pubsub.NodeConfig{AccessModel: "open", PublishModel: "publishers", MaxItems: 5, PersistItems: true, Title: "Tïtle"}
		for _, n := range []string{"urn:xmpp:avatar:metadata", "eu.siacs.conversations.axolotl.devicelist"} {
			if err := s.CreateNode(e.Ctx, pubsub.StoredNode{Service: svc, Node: n, Creator: svc, Config: cfg}, 2); err != nil {
				t.Fatal(err)
			}
		}
		err := s.CreateNode(e.Ctx, pubsub.StoredNode{Service: svc, Node: "urn:xmpp:avatar:metadata", Creator: svc, Config: cfg}, 0)
		if !errors.Is(err, pubsub.ErrExists) {
			t.Fatalf("second create: %v", err)
		}
		if err := s.CreateNode(e.Ctx, pubsub.StoredNode{Service: svc, Node: "third", Creator: svc, Config: cfg}, 2); !errors.Is(err, storage.ErrLimit) {
			t.Fatalf("past the limit: %v", err)
		}
		// The limit counts per service: the same user on the service.
		if err := s.CreateNode(e.Ctx, pubsub.StoredNode{Service: other, Node: "third", Creator: svc, Config: cfg}, 2); err != nil {
			t.Fatal(err)
		}
		nodes, err := s.Nodes(e.Ctx, svc)
		if err != nil || len(nodes) != 2 || nodes[0].Node != "eu.siacs.conversations.axolotl.devicelist" || nodes[1].Config.Title != "Tïtle" {
			t.Fatalf("Nodes = %+v, %v", nodes, err)
		}
		affs, err := s.Affiliations(e.Ctx, svc, "third")
		if err != nil || len(affs) != 0 {
			t.Fatalf("affiliations of a node on another service: %v %v", affs, err)
		}
		affs, _ = s.Affiliations(e.Ctx, other, "third")
		if affs[svc] != pubsub.AffOwner {
			t.Fatalf("creator is not owner: %v", affs)
		}
		cfg.AccessModel, cfg.MaxItems = "whitelist", 1
		if err := s.SetConfig(e.Ctx, svc, "urn:xmpp:avatar:metadata", cfg); err != nil {
			t.Fatal(err)
		}
		n, found, err := s.Node(e.Ctx, svc, "urn:xmpp:avatar:metadata")
		if err != nil || !found || n.Config.AccessModel != "whitelist" || n.Creator != svc {
			t.Fatalf("Node = %+v %v %v", n, found, err)
		}
		if gone, err := s.DeleteNode(e.Ctx, svc, "urn:xmpp:avatar:metadata"); err != nil || !gone {
			t.Fatalf("DeleteNode = %v %v", gone, err)
		}
		if _, found, _ := s.Node(e.Ctx, svc, "urn:xmpp:avatar:metadata"); found {
			t.Fatal("deleted node still there")
		}
		// Deleting the account deletes its PEP nodes with their items, not
		// the nodes it created on the service.
		if err := s.Publish(e.Ctx, svc, "eu.siacs.conversations.axolotl.devicelist", pubsub.Item{ID: "current", Payload: []byte("<x xmlns='u'/>")}, 1); err != nil {
			t.Fatal(err)
		}
		if err := e.Accounts.Delete(e.Ctx, e.JID(t, "alice@D")); err != nil {
			t.Fatal(err)
		}
		if nodes, err := s.Nodes(e.Ctx, svc); err != nil || len(nodes) != 0 {
			t.Fatalf("PEP nodes after the account's deletion: %+v %v", nodes, err)
		}
		if p, _, err := s.Items(e.Ctx, svc, "eu.siacs.conversations.axolotl.devicelist", pubsub.ItemQuery{}); err != nil || p.Count != 0 {
			t.Fatalf("PEP items after the account's deletion: %d %v", p.Count, err)
		}
		if _, found, _ := s.Node(e.Ctx, other, "third"); !found {
			t.Fatal("the service node went with its creator's account")
		}
	}},
	{"pubsub/items publish trim page retract purge", func(t *testing.T, e *Env) {
		s := pubsub.NewStore(e.DB)
		svc := "pubsub." + e.Domain
		if err := s.CreateNode(e.Ctx, pubsub.StoredNode{Service: svc, Node: "n", Creator: "a@" + e.Domain, Config: pubsub.NodeConfig{PersistItems: true}}, 0); err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			it := pubsub.Item{ID: fmt.Sprint("i", i), Publisher: "a@" + e.Domain + "/r", Payload: []byte(fmt.Sprintf("<x xmlns='u'>%d</x>", i))}
			if err := s.Publish(e.Ctx, svc, "n", it, 4); err != nil {
				t.Fatal(err)
			}
		}
		// Republishing i3 makes it the newest.
		if err := s.Publish(e.Ctx, svc, "n", pubsub.Item{ID: "i3", Publisher: "b@x/y", Payload: []byte("<x xmlns='u'>again</x>")}, 4); err != nil {
			t.Fatal(err)
		}
		page, found, err := s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{})
		if err != nil || !found || page.Count != 4 || ids(page) != "i3 i5 i4 i2" || string(page.Items[0].Payload) != "<x xmlns='u'>again</x>" || page.Items[0].Publisher != "b@x/y" {
			t.Fatalf("items = %s (%d) %v %v", ids(page), page.Count, found, err)
		}
		if page, _, _ = s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{Max: 2, After: "i5"}); ids(page) != "i4 i2" {
			t.Errorf("after i5: %s", ids(page))
		}
		if page, _, _ = s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{Max: 2, Before: "i2"}); ids(page) != "i5 i4" {
			t.Errorf("before i2: %s", ids(page))
		}
		if page, _, _ = s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{MaxBytes: 30}); ids(page) != "i3 i5" || page.Count != 4 {
			t.Errorf("up to 30 bytes: %s (%d)", ids(page), page.Count)
		}
		if page, _, _ = s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{IDs: []string{"i4", "nope", "i2"}}); ids(page) != "i4 i2" {
			t.Errorf("by id: %s", ids(page))
		}
		if _, found, _ = s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{After: "i0"}); found {
			t.Error("a page after a trimmed item was found")
		}
		if last, ok, _ := s.Last(e.Ctx, svc, "n"); !ok || last.ID != "i3" || last.Published.Before(time.Now().Add(-time.Hour)) {
			t.Errorf("last = %+v", last)
		}
		if ok, err := s.Retract(e.Ctx, svc, "n", "i5"); err != nil || !ok {
			t.Fatalf("retract = %v %v", ok, err)
		}
		if ok, _ := s.Retract(e.Ctx, svc, "n", "i5"); ok {
			t.Error("retracted twice")
		}
		if err := s.Purge(e.Ctx, svc, "n"); err != nil {
			t.Fatal(err)
		}
		if page, _, _ = s.Items(e.Ctx, svc, "n", pubsub.ItemQuery{}); page.Count != 0 {
			t.Errorf("after purge: %s", ids(page))
		}
	}},
	{"pubsub/subscriptions affiliations caps", func(t *testing.T, e *Env) {
		s := pubsub.NewStore(e.DB)
		svc := "pubsub." + e.Domain
		if err := s.CreateNode(e.Ctx, pubsub.StoredNode{Service: svc, Node: "n", Creator: "a@" + e.Domain}, 0); err != nil {
			t.Fatal(err)
		}
		subs := []pubsub.Subscription{
			{JID: "b@" + e.Domain, SubID: "1", State: "subscribed", Options: pubsub.SubOptions{Deliver: true}},
			{JID: "c@remote.example/r", SubID: "2", State: "pending"},
		}
		for _, sub := range subs {
			if err := s.PutSubscription(e.Ctx, svc, "n", sub); err != nil {
				t.Fatal(err)
			}
		}
		subs[1].State = "subscribed"
		if err := s.PutSubscription(e.Ctx, svc, "n", subs[1]); err != nil {
			t.Fatal(err)
		}
		got, err := s.Subscriptions(e.Ctx, svc, "n")
		if err != nil || len(got) != 2 || got[0] != subs[0] || got[1] != subs[1] {
			t.Fatalf("subscriptions = %+v %v", got, err)
		}
		if ok, err := s.DeleteSubscription(e.Ctx, svc, "n", subs[0].JID, "1"); err != nil || !ok {
			t.Fatalf("unsubscribe = %v %v", ok, err)
		}
		for j, a := range map[string]pubsub.Affiliation{"p@x": pubsub.AffPublisher, "o@x": pubsub.AffOutcast, "m@x": pubsub.AffMember} {
			if err := s.SetAffiliation(e.Ctx, svc, "n", j, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetAffiliation(e.Ctx, svc, "n", "m@x", pubsub.AffNone); err != nil {
			t.Fatal(err)
		}
		affs, err := s.Affiliations(e.Ctx, svc, "n")
		if err != nil || len(affs) != 3 || affs["p@x"] != pubsub.AffPublisher || affs["o@x"] != pubsub.AffOutcast || affs["a@"+e.Domain] != pubsub.AffOwner {
			t.Fatalf("affiliations = %v %v", affs, err)
		}
		// Deleting the node takes its subscriptions and affiliations.
		if _, err := s.DeleteNode(e.Ctx, svc, "n"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Subscriptions(e.Ctx, svc, "n"); len(got) != 0 {
			t.Errorf("subscriptions of a deleted node: %+v", got)
		}
		if affs, _ := s.Affiliations(e.Ctx, svc, "n"); len(affs) != 0 {
			t.Errorf("affiliations of a deleted node: %v", affs)
		}
		key := "sha-1 " + e.Domain // unique per case
		info := []byte("<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:x+notify'/></query>")
		if _, found, _ := s.Caps(e.Ctx, key); found {
			t.Fatal("caps before put")
		}
		for range 2 { // putting twice replaces
			if err := s.PutCaps(e.Ctx, key, info); err != nil {
				t.Fatal(err)
			}
		}
		if got, found, err := s.Caps(e.Ctx, key); err != nil || !found || string(got) != string(info) {
			t.Fatalf("caps = %q %v %v", got, found, err)
		}
	}},
}

func ids(p pubsub.Page) string {
	s := ""
	for i, it := range p.Items {
		if i > 0 {
			s += " "
		}
		s += it.ID
	}
	return s
}
