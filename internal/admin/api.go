package admin

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/stream"
)

//go:embed openapi.json
var openAPI []byte

// apiRoute is one REST endpoint; the OpenAPI test compares the list with
// openapi.json.
type apiRoute struct {
	method, path string
	h            func(w http.ResponseWriter, r *http.Request, actor string) error
}

func (c *Console) apiList() []apiRoute {
	return []apiRoute{
		{"GET", "/api/v1/users", c.apiUsers},
		{"POST", "/api/v1/users", c.apiUserCreate},
		{"GET", "/api/v1/users/{jid}", c.apiUser},
		{"DELETE", "/api/v1/users/{jid}", c.apiUserDelete},
		{"POST", "/api/v1/users/{jid}/disable", c.apiUserDisable(true)},
		{"POST", "/api/v1/users/{jid}/enable", c.apiUserDisable(false)},
		{"PUT", "/api/v1/users/{jid}/password", c.apiUserPassword},
		{"GET", "/api/v1/sessions", c.apiSessions},
		{"DELETE", "/api/v1/sessions/{jid}", c.apiSessionKick},
		{"GET", "/api/v1/groups", c.apiGroups},
		{"POST", "/api/v1/groups", c.apiGroupCreate},
		{"PUT", "/api/v1/groups/{name}", c.apiGroupRename},
		{"DELETE", "/api/v1/groups/{name}", c.apiGroupDelete},
		{"POST", "/api/v1/groups/{name}/members", c.apiGroupAdd},
		{"DELETE", "/api/v1/groups/{name}/members/{jid}", c.apiGroupRemove},
		{"GET", "/api/v1/rooms", c.apiRooms},
		{"POST", "/api/v1/rooms", c.apiRoomCreate},
		{"PUT", "/api/v1/rooms/{jid}", c.apiRoomConfigure},
		{"DELETE", "/api/v1/rooms/{jid}", c.apiRoomDestroy},
		{"GET", "/api/v1/uploads", c.apiUploads},
		{"POST", "/api/v1/broadcast", c.apiBroadcast},
		{"GET", "/api/v1/stats", c.apiStats},
	}
}

func (c *Console) apiRoutes(mux *http.ServeMux) {
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range c.apiList() {
		mux.Handle(rt.method+" "+rt.path, c.bearer(rt.h))
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// Other methods on a known path: a JSON 405 naming the allowed ones.
	for _, p := range paths {
		allow := strings.Join(allowed[p], ", ")
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use "+allow+".")
		})
	}
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	// Anything else under /api/ is a JSON 404, not the console's page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "There is no such API endpoint; see /api/v1/openapi.json.")
	})
}

// apiError is the JSON error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg})
}

var statusCodes = map[int]string{
	http.StatusBadRequest: "bad_request", http.StatusNotFound: "not_found", http.StatusConflict: "conflict",
	http.StatusInternalServerError: "internal",
}

// bearer authenticates a request by its token and runs h; h's error is
// answered as JSON.
func (c *Console) bearer(h func(http.ResponseWriter, *http.Request, string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := c.checkBearer(w, r)
		if !ok {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := h(w, r, "token:"+id); err != nil {
			status, msg := explain(err)
			if status == http.StatusInternalServerError {
				c.log.Error("API request failed", "path", r.URL.Path, "err", err)
			}
			writeError(w, status, statusCodes[status], msg)
		}
	})
}

// RequireToken lets a request through to h only with a valid API token
// (as the REST API takes them); others get the API's JSON 401. The s2s
// operations on the admin listener (internal/server) are behind it.
func (c *Console) RequireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.checkBearer(w, r); ok {
			h.ServeHTTP(w, r)
		}
	})
}

// checkBearer returns the id of the request's token, or answers the
// request (401, or 500 when the store fails) and reports false.
func (c *Console) checkBearer(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "Send a token from `parley token create` as 'Authorization: Bearer <token>'.")
		return "", false
	}
	id, err := c.store.CheckToken(r.Context(), strings.TrimSpace(tok))
	if errors.Is(err, ErrBadToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", "The token is unknown or was revoked.")
		return "", false
	}
	if err != nil {
		c.log.Error("token check failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "The server could not check the token (see its log).")
		return "", false
	}
	return id, true
}

// decode reads a JSON body into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("The request needs a JSON body.")
		}
		return badRequest("The JSON body is not valid: %v.", err)
	}
	return nil
}

func (c *Console) apiUsers(w http.ResponseWriter, r *http.Request, _ string) error {
	list, more, err := c.users(r.Context(), r.URL.Query().Get("q"), 1000)
	if err != nil {
		return err
	}
	out := make([]string, len(list))
	for i, j := range list {
		out[i] = j.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "truncated": more})
	return nil
}

type userBody struct {
	JID      string `json:"jid"`
	Password string `json:"password"`
}

func (c *Console) apiUserCreate(w http.ResponseWriter, r *http.Request, actor string) error {
	var b userBody
	if err := decode(r, &b); err != nil {
		return err
	}
	j, err := c.parseUser(b.JID)
	if err != nil {
		return err
	}
	if err := c.Accounts.Create(r.Context(), j, b.Password); err != nil {
		return err
	}
	c.audit(r, actor, "user.create", j.String(), "")
	writeJSON(w, http.StatusCreated, map[string]string{"jid": j.String()})
	return nil
}

func (c *Console) apiUserDelete(w http.ResponseWriter, r *http.Request, actor string) error {
	j, err := c.parseUser(r.PathValue("jid"))
	if err != nil {
		return err
	}
	if err := c.deleteUser(r.Context(), j); err != nil {
		return err
	}
	c.audit(r, actor, "user.delete", j.String(), "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) apiUserPassword(w http.ResponseWriter, r *http.Request, actor string) error {
	j, err := c.parseUser(r.PathValue("jid"))
	if err != nil {
		return err
	}
	var b struct {
		Password string `json:"password"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := c.Accounts.SetPassword(r.Context(), j, b.Password); err != nil {
		return err
	}
	c.audit(r, actor, "user.password", j.String(), "password reset")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) apiSessions(w http.ResponseWriter, r *http.Request, _ string) error {
	rows := c.sessionRows(nil)
	if rows == nil {
		rows = []SessionRow{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": rows})
	return nil
}

// apiSessionKick ends the session at a full JID, or every session of a
// bare one.
func (c *Console) apiSessionKick(w http.ResponseWriter, r *http.Request, actor string) error {
	j, err := jid.Parse(r.PathValue("jid"))
	if err != nil || j.Local() == "" {
		return badRequest("%q is not a session or account address.", r.PathValue("jid"))
	}
	n := c.kick(func(s module.Session) bool { return s.JID() == j || (j.IsBare() && s.JID().Bare() == j) },
		stream.PolicyViolation, "disconnected by an administrator")
	if n == 0 {
		return userError{http.StatusNotFound, "No session of " + j.String() + " is online."}
	}
	c.audit(r, actor, "session.kick", j.String(), fmt.Sprintf("%d sessions", n))
	writeJSON(w, http.StatusOK, map[string]int{"closed": n})
	return nil
}

func (c *Console) needGroups() error {
	if c.Groups == nil {
		return userError{http.StatusNotFound, "Shared roster groups are not available on this server."}
	}
	return nil
}

func (c *Console) apiGroups(w http.ResponseWriter, r *http.Request, _ string) error {
	if err := c.needGroups(); err != nil {
		return err
	}
	gs, err := c.Groups.Groups(r.Context())
	if err != nil {
		return err
	}
	type group struct {
		Name    string   `json:"name"`
		Display string   `json:"display"`
		Members []string `json:"members"`
	}
	out := make([]group, len(gs))
	for i, g := range gs {
		out[i] = group{Name: g.Name, Display: g.Display, Members: jidStrings(g.Members)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
	return nil
}

type groupBody struct {
	Name    string   `json:"name"`
	Display string   `json:"display"`
	Members []string `json:"members"`
}

func (c *Console) members(list []string) ([]jid.JID, error) {
	out := make([]jid.JID, 0, len(list))
	for _, m := range list {
		j, err := c.parseUser(m)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (c *Console) apiGroupCreate(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needGroups(); err != nil {
		return err
	}
	var b groupBody
	if err := decode(r, &b); err != nil {
		return err
	}
	ms, err := c.members(b.Members)
	if err != nil {
		return err
	}
	if err := c.createGroup(r.Context(), b.Name, b.Display, ms); err != nil {
		return err
	}
	c.audit(r, actor, "group.create", b.Name, fmt.Sprintf("%d members", len(ms)))
	writeJSON(w, http.StatusCreated, map[string]string{"name": b.Name})
	return nil
}

func (c *Console) apiGroupDelete(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needGroups(); err != nil {
		return err
	}
	if err := c.Groups.DeleteGroup(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	c.audit(r, actor, "group.delete", r.PathValue("name"), "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) apiGroupRename(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needGroups(); err != nil {
		return err
	}
	var b struct {
		Display string `json:"display"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := c.Groups.SetDisplay(r.Context(), r.PathValue("name"), b.Display); err != nil {
		return err
	}
	c.audit(r, actor, "group.rename", r.PathValue("name"), b.Display)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) apiGroupAdd(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needGroups(); err != nil {
		return err
	}
	var b struct {
		Members []string `json:"members"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	ms, err := c.members(b.Members)
	if err == nil && len(ms) == 0 {
		err = badRequest("Name at least one member.")
	}
	if err != nil {
		return err
	}
	if err := c.Groups.AddMembers(r.Context(), r.PathValue("name"), ms); err != nil {
		return err
	}
	c.audit(r, actor, "group.members.add", r.PathValue("name"), fmt.Sprint(ms))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) apiGroupRemove(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needGroups(); err != nil {
		return err
	}
	m, err := c.parseUser(r.PathValue("jid"))
	if err != nil {
		return err
	}
	n, err := c.Groups.RemoveMembers(r.Context(), r.PathValue("name"), []jid.JID{m})
	if err != nil {
		return err
	}
	if n == 0 {
		return userError{http.StatusNotFound, m.String() + " is not a member of that group."}
	}
	c.audit(r, actor, "group.members.remove", r.PathValue("name"), m.String())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) needRooms() error {
	if c.Rooms == nil {
		return userError{http.StatusNotFound, "Group chat is disabled on this server (muc.enabled = false)."}
	}
	return nil
}

func (c *Console) apiRooms(w http.ResponseWriter, r *http.Request, _ string) error {
	if err := c.needRooms(); err != nil {
		return err
	}
	rooms, err := c.Rooms.Rooms(r.Context())
	if err != nil {
		return err
	}
	type room struct {
		JID       string       `json:"jid"`
		Settings  RoomSettings `json:"settings"`
		Occupants int          `json:"occupants"`
		Subject   string       `json:"subject"`
	}
	out := make([]room, len(rooms))
	for i, rm := range rooms {
		out[i] = room{JID: rm.JID.String(), Settings: rm.Settings, Occupants: rm.Occupants, Subject: rm.Subject}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rooms": out})
	return nil
}

type roomBody struct {
	JID   string `json:"jid"`
	Owner string `json:"owner"`
	RoomSettings
}

func (c *Console) apiRoomCreate(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needRooms(); err != nil {
		return err
	}
	var b roomBody
	if err := decode(r, &b); err != nil {
		return err
	}
	room, err := c.parseRoom(b.JID)
	if err != nil {
		return err
	}
	owner, err := c.parseUser(b.Owner)
	if err != nil {
		return err
	}
	if err := c.Rooms.CreateRoom(r.Context(), room, owner, b.RoomSettings); err != nil {
		return err
	}
	c.audit(r, actor, "room.create", room.String(), "owner "+owner.String())
	writeJSON(w, http.StatusCreated, map[string]string{"jid": room.String()})
	return nil
}

func (c *Console) apiRoomConfigure(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needRooms(); err != nil {
		return err
	}
	room, err := c.parseRoom(r.PathValue("jid"))
	if err != nil {
		return err
	}
	var s RoomSettings
	if err := decode(r, &s); err != nil {
		return err
	}
	if err := c.Rooms.ConfigureRoom(r.Context(), room, s); err != nil {
		return err
	}
	c.audit(r, actor, "room.configure", room.String(), "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) apiRoomDestroy(w http.ResponseWriter, r *http.Request, actor string) error {
	if err := c.needRooms(); err != nil {
		return err
	}
	room, err := c.parseRoom(r.PathValue("jid"))
	if err != nil {
		return err
	}
	reason := r.URL.Query().Get("reason")
	if err := c.Rooms.DestroyRoom(r.Context(), room, reason); err != nil {
		return err
	}
	c.audit(r, actor, "room.destroy", room.String(), reason)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// broadcast sends a message from each served domain to every online
// session of its users; it returns how many sessions it went to.
func (c *Console) broadcast(ctx context.Context, subject, body string) int {
	n := 0
	for _, s := range c.Sessions.All() {
		to := s.JID()
		m := stanza.New(stanza.NSClient, stanza.KindMessage).SetAttr("from", to.Domain()).SetAttr("to", to.String()).
			SetAttr("type", "headline").SetAttr("id", randomToken()[:12])
		if subject != "" {
			m.Append(stanza.New(stanza.NSClient, "subject").AppendText(subject))
		}
		m.Append(stanza.New(stanza.NSClient, "body").AppendText(body))
		c.Sessions.Deliver(ctx, to, m)
		n++
	}
	return n
}

func (c *Console) apiBroadcast(w http.ResponseWriter, r *http.Request, actor string) error {
	var b struct {
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}
	if err := decode(r, &b); err != nil {
		return err
	}
	if strings.TrimSpace(b.Body) == "" {
		return badRequest("The message needs a body.")
	}
	n := c.broadcast(r.Context(), b.Subject, b.Body)
	c.audit(r, actor, "broadcast", "all online users", fmt.Sprintf("%d sessions: %s", n, b.Subject))
	writeJSON(w, http.StatusOK, map[string]int{"sessions": n})
	return nil
}

func (c *Console) apiStats(w http.ResponseWriter, r *http.Request, _ string) error {
	writeJSON(w, http.StatusOK, c.liveStats(r.Context()))
	return nil
}

func jidStrings(js []jid.JID) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.String()
	}
	return out
}

// createGroup creates a group with its first members, all or nothing.
func (c *Console) createGroup(ctx context.Context, name, display string, members []jid.JID) error {
	if err := c.Groups.CreateGroup(ctx, name, display); err != nil {
		return err
	}
	if len(members) == 0 {
		return nil
	}
	if err := c.Groups.AddMembers(ctx, name, members); err != nil {
		if derr := c.Groups.DeleteGroup(ctx, name); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	return nil
}
