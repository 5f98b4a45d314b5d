package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyim/parley/internal/jid"
)

func (c *Console) noGroups(w http.ResponseWriter, r *http.Request, lg *login) bool {
	if c.Groups == nil {
		c.errorPage(w, r, lg, http.StatusNotFound, "Shared roster groups are not available on this server.")
		return true
	}
	return false
}

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noGroups(w, r, lg) {
		return
	}
	gs, err := c.Groups.Groups(r.Context())
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.render(w, r, http.StatusOK, "groups", lg, map[string]any{"Groups": gs})
}

// parseMembers reads account addresses separated by commas, spaces or
// lines.
func (c *Console) parseMembers(s string) ([]jid.JID, error) {
	var out []jid.JID
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		j, err := c.parseUser(f)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (c *Console) groupCreate(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noGroups(w, r, lg) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	members, err := c.parseMembers(r.PostFormValue("members"))
	if err == nil {
		err = c.createGroup(r.Context(), name, strings.TrimSpace(r.PostFormValue("display")), members)
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "group.create", name, fmt.Sprintf("%d members", len(members)))
	done(w, r, "/groups", "Group "+name+" created.")
}

func (c *Console) groupDelete(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noGroups(w, r, lg) {
		return
	}
	name := r.PostFormValue("name")
	if err := c.Groups.DeleteGroup(r.Context(), name); err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "group.delete", name, "")
	done(w, r, "/groups", "Group "+name+" deleted.")
}

func (c *Console) groupAddMembers(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noGroups(w, r, lg) {
		return
	}
	name := r.PostFormValue("name")
	members, err := c.parseMembers(r.PostFormValue("members"))
	if err == nil && len(members) == 0 {
		err = badRequest("Name at least one account to add.")
	}
	if err == nil {
		err = c.Groups.AddMembers(r.Context(), name, members)
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "group.members.add", name, fmt.Sprint(members))
	done(w, r, "/groups", fmt.Sprintf("%d members added to %s.", len(members), name))
}

func (c *Console) groupRemoveMember(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noGroups(w, r, lg) {
		return
	}
	name := r.PostFormValue("name")
	m, err := c.parseUser(r.PostFormValue("member"))
	if err == nil {
		_, err = c.Groups.RemoveMembers(r.Context(), name, []jid.JID{m})
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "group.members.remove", name, m.String())
	done(w, r, "/groups", m.String()+" removed from "+name+".")
}

func (c *Console) groupRename(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noGroups(w, r, lg) {
		return
	}
	name, display := r.PostFormValue("name"), strings.TrimSpace(r.PostFormValue("display"))
	if err := c.Groups.SetDisplay(r.Context(), name, display); err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "group.rename", name, display)
	done(w, r, "/groups", "Group "+name+" is now shown as “"+display+"”.")
}
