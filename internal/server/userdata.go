package server

import (
	"github.com/parleyim/parley/internal/features/blocking"
	"github.com/parleyim/parley/internal/features/lastactivity"
	"github.com/parleyim/parley/internal/features/mam"
	"github.com/parleyim/parley/internal/features/offline"
	"github.com/parleyim/parley/internal/features/private"
	"github.com/parleyim/parley/internal/features/pubsub"
	"github.com/parleyim/parley/internal/features/push"
	"github.com/parleyim/parley/internal/features/pushapp"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/vcard"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/storage"
)

// UserData lists the stored features' sections of a user's data over db,
// in the order XEP-0227 export writes them (package portable): roster and
// pending requests, vCard, private XML, offline messages, block list, last
// activity, message archive (Parley's own element: XEP-0227 has none), PEP
// nodes, XEP-0357 push registrations and app-server devices (Parley's own
// elements too). A stored feature added here is exported and imported.
func UserData(db *storage.DB) []module.UserData {
	return []module.UserData{
		roster.NewUserData(db),
		vcard.NewUserData(db),
		private.NewUserData(db),
		offline.NewUserData(db),
		blocking.NewUserData(db),
		lastactivity.NewUserData(db),
		mam.NewUserData(db),
		pubsub.NewUserData(db),
		push.NewUserData(db),
		pushapp.NewUserData(db),
	}
}
