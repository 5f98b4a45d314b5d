package adhoc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

// NSAdmin is the node prefix and FORM_TYPE of XEP-0133.
const NSAdmin = "http://jabber.org/protocol/admin"

// The XEP-0133 command nodes served.
const (
	NodeAddUser        = NSAdmin + "#add-user"
	NodeDeleteUser     = NSAdmin + "#delete-user"
	NodeEndSession     = NSAdmin + "#end-user-session"
	NodeDisableUser    = NSAdmin + "#disable-user"
	NodeReenableUser   = NSAdmin + "#reenable-user"
	NodeChangePassword = NSAdmin + "#change-user-password"
	NodeRegisteredNum  = NSAdmin + "#get-registered-users-num"
	NodeOnlineNum      = NSAdmin + "#get-online-users-num"
	NodeRegisteredList = NSAdmin + "#get-registered-users-list"
	NodeOnlineList     = NSAdmin + "#get-online-users-list"
	NodeAnnounce       = NSAdmin + "#announce"
	NodeUserStats      = NSAdmin + "#user-stats"
)

// addAdminCommands adds the XEP-0133 commands.
func (m *Module) addAdminCommands() {
	form := func(title string, fs ...func(*Form)) func(context.Context, jid.JID) *stanza.Element {
		return func(context.Context, jid.JID) *stanza.Element {
			f := NewForm("form", title, NSAdmin)
			for _, add := range fs {
				add(f)
			}
			return f.X
		}
	}
	accountJID := func(f *Form) { f.Field("accountjid", "jid-single", "The Jabber ID of the account", true) }
	accountJIDs := func(f *Form) { f.Field("accountjids", "jid-multi", "The Jabber IDs", true) }
	password := func(f *Form) { f.Field("password", "text-private", "The password for this account", true) }
	for _, c := range []Command{
		{Node: NodeAddUser, Name: "Add a user", Submit: m.addUser, Form: form("Adding a user", accountJID, password,
			func(f *Form) { f.Field("password-verify", "text-private", "Retype password", true) })},
		{Node: NodeDeleteUser, Name: "Delete users", Submit: m.deleteUsers, Form: form("Deleting users", accountJIDs)},
		{Node: NodeDisableUser, Name: "Disable users", Submit: m.setDisabled(true), Form: form("Disabling users", accountJIDs)},
		{Node: NodeReenableUser, Name: "Re-enable users", Submit: m.setDisabled(false), Form: form("Re-enabling users", accountJIDs)},
		{Node: NodeEndSession, Name: "End user sessions", Submit: m.endSessions, Form: form("Ending user sessions", accountJIDs)},
		{Node: NodeChangePassword, Name: "Change a user's password", Submit: m.changePassword, Form: form("Changing a password", accountJID, password)},
		{Node: NodeRegisteredNum, Name: "Get the number of registered users", Submit: m.registeredNum},
		{Node: NodeOnlineNum, Name: "Get the number of online users", Submit: m.onlineNum},
		{Node: NodeRegisteredList, Name: "Get the list of registered users", Submit: m.registeredList},
		{Node: NodeOnlineList, Name: "Get the list of online users", Submit: m.onlineList},
		{Node: NodeUserStats, Name: "Get user statistics", Submit: m.userStats, Form: form("Getting user statistics", accountJID)},
		{Node: NodeAnnounce, Name: "Send an announcement to online users", Submit: m.announce, Form: form("Making an announcement",
			func(f *Form) { f.Field("subject", "text-single", "Subject", false) },
			func(f *Form) { f.Field("announcement", "text-multi", "Announcement", true) })},
	} {
		c.AdminOnly = true
		m.Add(c)
	}
}

// one returns the single value of a field, "" when absent.
func one(f map[string][]string, k string) string {
	if v := f[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// localAccount parses a field's value as a bare JID on a served domain.
func (m *Module) localAccount(v string) (jid.JID, error) {
	j, err := jid.Parse(v)
	switch {
	case v == "" || err != nil:
		return jid.JID{}, commandError(stanza.JIDMalformed, "", fmt.Sprintf("%q is not a Jabber ID", v))
	case j.Local() == "" || !m.cfg.Host.IsLocal(j.Domain()):
		return jid.JID{}, commandError(stanza.NotAcceptable, "", fmt.Sprintf("%s is not an account of this server", j))
	}
	return j, nil
}

// accountError turns an account store error into a stanza error.
func accountError(op string, j jid.JID, err error) error {
	switch {
	case errors.Is(err, account.ErrExists):
		return commandError(stanza.Conflict, "", fmt.Sprintf("the account %s already exists", j))
	case errors.Is(err, account.ErrNotFound):
		return commandError(stanza.ItemNotFound, "", fmt.Sprintf("the account %s does not exist", j))
	case errors.Is(err, account.ErrWeakPassword), errors.Is(err, account.ErrInvalidPassword), errors.Is(err, account.ErrInvalidJID):
		return commandError(stanza.NotAcceptable, "", fmt.Sprintf("%s %s: %v", op, j, err))
	}
	return fmt.Errorf("adhoc: %s %s: %w", op, j, err)
}

func (m *Module) addUser(ctx context.Context, from jid.JID, _ string, f map[string][]string) (Result, error) {
	j, err := m.localAccount(one(f, "accountjid"))
	if err != nil {
		return Result{}, err
	}
	pw := one(f, "password")
	switch {
	case pw == "":
		return Result{}, commandError(stanza.NotAcceptable, "", "a password is required")
	case pw != one(f, "password-verify"):
		return Result{}, commandError(stanza.NotAcceptable, "", "the passwords differ")
	}
	if err := m.cfg.Accounts.Create(ctx, j.Bare(), pw); err != nil {
		return Result{}, accountError("add", j, err)
	}
	m.log.Info("account added by an admin", "jid", j.Bare(), "admin", from.Bare())
	return Result{Note: "The account " + j.Bare().String() + " was created."}, nil
}

func (m *Module) changePassword(ctx context.Context, from jid.JID, _ string, f map[string][]string) (Result, error) {
	j, err := m.localAccount(one(f, "accountjid"))
	if err != nil {
		return Result{}, err
	}
	if one(f, "password") == "" {
		return Result{}, commandError(stanza.NotAcceptable, "", "a password is required")
	}
	if err := m.cfg.Accounts.SetPassword(ctx, j.Bare(), one(f, "password")); err != nil {
		return Result{}, accountError("change the password of", j, err)
	}
	m.log.Info("password changed by an admin", "jid", j.Bare(), "admin", from.Bare())
	return Result{Note: "The password of " + j.Bare().String() + " was changed."}, nil
}

// accounts parses accountjids: every value must be a local JID.
func (m *Module) accounts(f map[string][]string) ([]jid.JID, error) {
	vals := f["accountjids"]
	if len(vals) == 0 {
		return nil, commandError(stanza.NotAcceptable, "", "name at least one account in accountjids")
	}
	out := make([]jid.JID, 0, len(vals))
	for _, v := range vals {
		j, err := m.localAccount(v)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (m *Module) deleteUsers(ctx context.Context, from jid.JID, _ string, f map[string][]string) (Result, error) {
	js, err := m.accounts(f)
	if err != nil {
		return Result{}, err
	}
	for _, j := range js {
		if err := m.cfg.Accounts.Delete(ctx, j.Bare()); err != nil {
			return Result{}, accountError("delete", j, err)
		}
		m.log.Info("account deleted by an admin", "jid", j.Bare(), "admin", from.Bare())
		for _, s := range m.cfg.Host.Sessions(j.Bare()) {
			s.Close(stream.NotAuthorized, "the account was removed")
		}
	}
	return Result{Note: strconv.Itoa(len(js)) + " account(s) deleted."}, nil
}

// setDisabled returns the Submit of disable-user (disable true, XEP-0133
// §4.3: the account cannot log in, account-disabled, and its sessions
// end) or reenable-user (§4.4: it can log in again).
func (m *Module) setDisabled(disable bool) func(context.Context, jid.JID, string, map[string][]string) (Result, error) {
	op, done := "re-enable", "re-enabled"
	if disable {
		op, done = "disable", "disabled"
	}
	return func(ctx context.Context, from jid.JID, _ string, f map[string][]string) (Result, error) {
		js, err := m.accounts(f)
		if err != nil {
			return Result{}, err
		}
		for _, j := range js {
			if err := m.cfg.Accounts.SetDisabled(ctx, j.Bare(), disable); err != nil {
				return Result{}, accountError(op, j, err)
			}
			m.log.Info("account "+done+" by an admin", "jid", j.Bare(), "admin", from.Bare())
			if !disable {
				continue
			}
			for _, s := range m.cfg.Host.Sessions(j.Bare()) {
				s.Close(stream.PolicyViolation, "an administrator disabled this account")
			}
		}
		return Result{Note: strconv.Itoa(len(js)) + " account(s) " + done + "."}, nil
	}
}

// endSessions closes the sessions of each JID: one resource for a full
// JID, every resource for a bare one.
func (m *Module) endSessions(_ context.Context, from jid.JID, _ string, f map[string][]string) (Result, error) {
	js, err := m.accounts(f)
	if err != nil {
		return Result{}, err
	}
	n := 0
	for _, j := range js {
		for _, s := range m.cfg.Host.Sessions(j.Bare()) {
			if j.IsBare() || s.JID() == j {
				s.Close(stream.PolicyViolation, "an administrator ended this session")
				n++
			}
		}
	}
	m.log.Info("sessions ended by an admin", "sessions", n, "admin", from.Bare())
	return Result{Note: strconv.Itoa(n) + " session(s) ended."}, nil
}

// online returns the distinct bare JIDs online on domain, sorted.
func (m *Module) online(domain string) []jid.JID {
	var out []jid.JID
	for _, s := range m.cfg.Online() {
		if b := s.JID().Bare(); b.Domain() == domain {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, jid.JID.Compare)
	return slices.Compact(out)
}

// userStats reports an account's roster size, online resources and the
// IP addresses of its sessions (XEP-0133 §4.10). The message count is
// not kept anywhere, so that field is left out.
func (m *Module) userStats(ctx context.Context, _ jid.JID, _ string, f map[string][]string) (Result, error) {
	j, err := m.localAccount(one(f, "accountjid"))
	if err != nil {
		return Result{}, err
	}
	if ok, err := m.cfg.Accounts.Exists(ctx, j.Bare()); err != nil {
		return Result{}, accountError("look up", j, err)
	} else if !ok {
		return Result{}, commandError(stanza.ItemNotFound, "", fmt.Sprintf("the account %s does not exist", j.Bare()))
	}
	form := NewForm("result", "", NSAdmin).Field("accountjid", "jid-single", "The Jabber ID of the account", false, j.Bare().String())
	if m.cfg.RosterSize != nil {
		n, err := m.cfg.RosterSize(ctx, j.Bare())
		if err != nil {
			return Result{}, fmt.Errorf("adhoc: roster size of %s: %w", j.Bare(), err)
		}
		form.Field("rostersize", "text-single", "Roster size", false, strconv.Itoa(n))
	}
	res, addrs := m.sessionsOf(j.Bare())
	form.Field("onlineresources", "text-multi", "Online resources", false, res...)
	if m.cfg.Addr != nil {
		form.Field("ipaddresses", "text-multi", "IP addresses", false, addrs...)
	}
	return Result{Form: form.X}, nil
}

// sessionsOf returns the full JIDs of user's sessions and their distinct
// client addresses, each sorted.
func (m *Module) sessionsOf(user jid.JID) (res, addrs []string) {
	for _, s := range m.cfg.Host.Sessions(user) {
		res = append(res, s.JID().String())
		if m.cfg.Addr != nil {
			if a := m.cfg.Addr(s); a != "" {
				addrs = append(addrs, a)
			}
		}
	}
	slices.Sort(res)
	slices.Sort(addrs)
	return res, slices.Compact(addrs)
}

func resultForm(field, label string, typ string, values ...string) *stanza.Element {
	return NewForm("result", "", NSAdmin).Field(field, typ, label, false, values...).X
}

func (m *Module) registeredNum(ctx context.Context, _ jid.JID, domain string, _ map[string][]string) (Result, error) {
	us, err := m.cfg.Accounts.List(ctx, domain)
	if err != nil {
		return Result{}, fmt.Errorf("adhoc: list accounts of %s: %w", domain, err)
	}
	return Result{Form: resultForm("registeredusersnum", "The number of registered users", "text-single", strconv.Itoa(len(us)))}, nil
}

func (m *Module) registeredList(ctx context.Context, _ jid.JID, domain string, _ map[string][]string) (Result, error) {
	us, err := m.cfg.Accounts.List(ctx, domain)
	if err != nil {
		return Result{}, fmt.Errorf("adhoc: list accounts of %s: %w", domain, err)
	}
	return Result{Form: resultForm("registereduserjids", "The list of all users", "jid-multi", jidStrings(us)...)}, nil
}

func (m *Module) onlineNum(_ context.Context, _ jid.JID, domain string, _ map[string][]string) (Result, error) {
	return Result{Form: resultForm("onlineusersnum", "The number of online users", "text-single", strconv.Itoa(len(m.online(domain))))}, nil
}

func (m *Module) onlineList(_ context.Context, _ jid.JID, domain string, _ map[string][]string) (Result, error) {
	return Result{Form: resultForm("onlineuserjids", "The list of all online users", "jid-multi", jidStrings(m.online(domain))...)}, nil
}

func jidStrings(js []jid.JID) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.String()
	}
	return out
}

// announce sends a message from the server to every online session of
// the domain (XEP-0133 §4.23).
func (m *Module) announce(ctx context.Context, from jid.JID, domain string, f map[string][]string) (Result, error) {
	lines := f["announcement"]
	if len(lines) == 0 {
		return Result{}, commandError(stanza.NotAcceptable, "", "the announcement is empty")
	}
	body := ""
	for i, l := range lines {
		if i > 0 {
			body += "\n"
		}
		body += l
	}
	n := 0
	for _, s := range m.cfg.Online() {
		to := s.JID()
		if to.Domain() != domain {
			continue
		}
		msg := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", domain).SetAttr("to", to.String()).
			SetAttr("id", newID())
		if subj := one(f, "subject"); subj != "" {
			msg.Append(stanza.New(stanza.NSClient, "subject").AppendText(subj))
		}
		msg.Append(stanza.New(stanza.NSClient, "body").AppendText(body))
		m.cfg.Host.Deliver(ctx, to, msg)
		n++
	}
	m.log.Info("announcement sent by an admin", "sessions", n, "admin", from.Bare())
	return Result{Note: "The announcement was sent to " + strconv.Itoa(n) + " session(s)."}, nil
}
