package admin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stream"
)

// setDisabled disables the account j (it can no longer log in; its
// sessions and console logins end) or enables it again, and says how many
// sessions it ended. The flag is the account store's (migration 00010),
// the same one `parley user disable` and XEP-0133 set.
func (c *Console) setDisabled(ctx context.Context, j jid.JID, disable bool) (int, error) {
	if err := c.Accounts.SetDisabled(ctx, j, disable); err != nil {
		return 0, err
	}
	if !disable {
		return 0, nil
	}
	n := c.kick(func(s module.Session) bool { return s.JID().Bare() == j }, stream.PolicyViolation, "an administrator disabled this account")
	if err := c.logins.endUser(ctx, j); err != nil {
		return n, err
	}
	return n, nil
}

// disableAction is the audit action and the words of a disable or enable.
func disableAction(disable bool) (action, done string) {
	if disable {
		return "user.disable", "disabled"
	}
	return "user.enable", "enabled"
}

// userDisable is POST /user/disable and /user/enable.
func (c *Console) userDisable(disable bool) func(http.ResponseWriter, *http.Request, *login) {
	return func(w http.ResponseWriter, r *http.Request, lg *login) {
		j, err := c.parseUser(r.PostFormValue("jid"))
		n := 0
		if err == nil {
			n, err = c.setDisabled(r.Context(), j, disable)
		}
		if err != nil {
			c.failed(w, r, lg, err)
			return
		}
		action, word := disableAction(disable)
		c.audit(r, lg.user.String(), action, j.String(), sessionsEnded(n))
		done(w, r, "/user?jid="+urlQueryEscape(j.String()), "Account "+j.String()+" "+word+".")
	}
}

func sessionsEnded(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d sessions ended", n)
}

// userJSON is one account in the API.
type userJSON struct {
	JID      string `json:"jid"`
	Disabled bool   `json:"disabled"`
	Sessions int    `json:"sessions"`
}

func (c *Console) userInfo(ctx context.Context, j jid.JID) (userJSON, error) {
	dis, err := c.Accounts.Disabled(ctx, j)
	if err != nil {
		return userJSON{}, err
	}
	n := 0
	for _, s := range c.Sessions.All() {
		if s.JID().Bare() == j {
			n++
		}
	}
	return userJSON{JID: j.String(), Disabled: dis, Sessions: n}, nil
}

func (c *Console) apiUser(w http.ResponseWriter, r *http.Request, _ string) error {
	j, err := c.parseUser(r.PathValue("jid"))
	if err != nil {
		return err
	}
	u, err := c.userInfo(r.Context(), j)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// apiUserDisable is POST /api/v1/users/{jid}/disable and /enable; it
// answers the account as GET /api/v1/users/{jid} does.
func (c *Console) apiUserDisable(disable bool) func(http.ResponseWriter, *http.Request, string) error {
	return func(w http.ResponseWriter, r *http.Request, actor string) error {
		j, err := c.parseUser(r.PathValue("jid"))
		if err != nil {
			return err
		}
		n, err := c.setDisabled(r.Context(), j, disable)
		if err != nil {
			return err
		}
		action, _ := disableAction(disable)
		c.audit(r, actor, action, j.String(), sessionsEnded(n))
		return c.apiUser(w, r, actor)
	}
}
