package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyim/parley/internal/jid"
)

func (c *Console) noRooms(w http.ResponseWriter, r *http.Request, lg *login) bool {
	if c.Rooms == nil {
		c.errorPage(w, r, lg, http.StatusNotFound, "Group chat is disabled on this server (muc.enabled = false).")
		return true
	}
	return false
}

// parseRoom reads a room address; a bare name is put on the first
// group chat service.
func (c *Console) parseRoom(s string) (jid.JID, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "@") && s != "" {
		if svcs := c.Rooms.Services(); len(svcs) > 0 {
			s += "@" + svcs[0]
		}
	}
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return jid.JID{}, badRequest("%q is not a room address; write room@%s.", s, strings.Join(c.Rooms.Services(), " or room@"))
	}
	for _, svc := range c.Rooms.Services() {
		if j.Domain() == svc {
			return j, nil
		}
	}
	return jid.JID{}, badRequest("%s is not a group chat service of this server (%s).", j.Domain(), strings.Join(c.Rooms.Services(), ", "))
}

func roomSettingsFrom(r *http.Request) (RoomSettings, error) {
	s := RoomSettings{
		Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Persistent: r.PostFormValue("persistent") != "", Public: r.PostFormValue("public") != "",
		MembersOnly: r.PostFormValue("members_only") != "", Moderated: r.PostFormValue("moderated") != "",
	}
	if v := strings.TrimSpace(r.PostFormValue("max_users")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return s, badRequest("The most occupants must be a whole number greater than 0.")
		}
		s.MaxUsers = n
	}
	return s, nil
}

func (c *Console) roomsPage(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noRooms(w, r, lg) {
		return
	}
	rooms, err := c.Rooms.Rooms(r.Context())
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.render(w, r, http.StatusOK, "rooms", lg, map[string]any{"Rooms": rooms, "Services": c.Rooms.Services(), "Owner": lg.user})
}

func (c *Console) roomCreate(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noRooms(w, r, lg) {
		return
	}
	room, err := c.parseRoom(r.PostFormValue("room"))
	var set RoomSettings
	if err == nil {
		set, err = roomSettingsFrom(r)
	}
	owner := lg.user
	if err == nil && strings.TrimSpace(r.PostFormValue("owner")) != "" {
		owner, err = c.parseUser(r.PostFormValue("owner"))
	}
	if err == nil {
		err = c.Rooms.CreateRoom(r.Context(), room, owner, set)
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "room.create", room.String(), "owner "+owner.String())
	done(w, r, "/rooms", "Room "+room.String()+" created.")
}

func (c *Console) findRoom(r *http.Request, j jid.JID) (Room, error) {
	rooms, err := c.Rooms.Rooms(r.Context())
	if err != nil {
		return Room{}, err
	}
	for _, rm := range rooms {
		if rm.JID == j {
			return rm, nil
		}
	}
	return Room{}, userError{http.StatusNotFound, "There is no room " + j.String() + " (it may have been destroyed, or emptied if it was temporary)."}
}

func (c *Console) roomPage(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noRooms(w, r, lg) {
		return
	}
	j, err := c.parseRoom(r.URL.Query().Get("jid"))
	var rm Room
	if err == nil {
		rm, err = c.findRoom(r, j)
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.render(w, r, http.StatusOK, "room", lg, map[string]any{"Room": rm})
}

func (c *Console) roomConfigure(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noRooms(w, r, lg) {
		return
	}
	j, err := c.parseRoom(r.PostFormValue("room"))
	var set RoomSettings
	if err == nil {
		set, err = roomSettingsFrom(r)
	}
	if err == nil {
		err = c.Rooms.ConfigureRoom(r.Context(), j, set)
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "room.configure", j.String(), "")
	done(w, r, "/room?jid="+urlQueryEscape(j.String()), "Room "+j.String()+" configured.")
}

func (c *Console) roomDestroy(w http.ResponseWriter, r *http.Request, lg *login) {
	if c.noRooms(w, r, lg) {
		return
	}
	j, err := c.parseRoom(r.PostFormValue("room"))
	if err == nil {
		err = c.Rooms.DestroyRoom(r.Context(), j, strings.TrimSpace(r.PostFormValue("reason")))
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "room.destroy", j.String(), r.PostFormValue("reason"))
	done(w, r, "/rooms", "Room "+j.String()+" destroyed.")
}
