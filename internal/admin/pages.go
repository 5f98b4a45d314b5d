package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/c2s"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stream"
)

// page is what every template gets.
type page struct {
	Title string
	Nav   string
	Login *login
	Flash string // a success message
	Error string // what went wrong, in words
	Data  map[string]any
}

var pageNames = []string{"login", "error", "dashboard", "live", "users", "user", "groups", "sessions", "rooms", "room", "uploads", "config", "audit"}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"chart":      chart,
		"transports": sortedTransports,
		"time":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"mb":         func(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) },
		"uptime":     func(s int64) string { return (time.Duration(s) * time.Second).String() },
		"rate":       func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
		"bytes":      byteSize,
	}
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		files := []string{"templates/layout.html", "templates/" + n + ".html"}
		if n == "dashboard" {
			files = append(files, "templates/live.html") // the figures
		}
		out[n] = template.Must(template.New(n).Funcs(funcs).ParseFS(assets, files...))
	}
	return out
}

// render writes the page name with data; flash and error come from the
// query (after a redirect) unless data sets them.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, lg *login, data map[string]any) {
	p := page{Nav: name, Login: lg, Data: data, Flash: r.URL.Query().Get("done")}
	if e, ok := data["Error"].(string); ok {
		p.Error = e
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.tmpl[name].ExecuteTemplate(w, name, p); err != nil {
		c.log.Error("console template failed", "page", name, "err", err)
	}
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, lg *login, status int, msg string) {
	c.render(w, r, status, "error", lg, map[string]any{"Error": msg, "Status": status, "StatusText": http.StatusText(status)})
}

// done redirects after a successful change, with a message for the next
// page (POST-redirect-GET).
func done(w http.ResponseWriter, r *http.Request, to, msg string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"done="+urlQueryEscape(msg), http.StatusSeeOther)
}

// failed shows err in words on an error page with a link back.
func (c *Console) failed(w http.ResponseWriter, r *http.Request, lg *login, err error) {
	status, msg := explain(err)
	if status == http.StatusInternalServerError {
		c.log.Error("console action failed", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", lg, map[string]any{"Error": msg, "Status": status, "StatusText": http.StatusText(status), "Back": r.Referer()})
}

// explain turns an error into an HTTP status and a sentence.
func explain(err error) (int, string) {
	var ue userError
	switch {
	case errors.As(err, &ue):
		return ue.status, ue.msg
	case errors.Is(err, account.ErrExists):
		return http.StatusConflict, "An account with that address already exists."
	case errors.Is(err, account.ErrNotFound):
		return http.StatusNotFound, "There is no such account."
	case errors.Is(err, account.ErrInvalidJID):
		return http.StatusBadRequest, "An account address looks like name@domain, with a name and one of the served domains."
	case errors.Is(err, account.ErrWeakPassword):
		return http.StatusBadRequest, "The password must not be empty."
	case errors.Is(err, account.ErrInvalidPassword):
		return http.StatusBadRequest, "The password contains characters that are not allowed (such as control characters)."
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "There is no such " + noun(err) + "."
	case errors.Is(err, ErrExists):
		return http.StatusConflict, "A " + noun(err) + " with that name already exists."
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, strings.TrimPrefix(err.Error(), "invalid: ")
	}
	return http.StatusInternalServerError, "The server could not do that (the details are in its log). Try again later."
}

// noun guesses what an ErrNotFound/ErrExists was about from its text.
func noun(err error) string {
	s := err.Error()
	for _, n := range []string{"group", "room", "session", "token"} {
		if strings.Contains(s, n) {
			return n
		}
	}
	return "item"
}

// userError is a mistake in what the administrator asked, with its status.
type userError struct {
	status int
	msg    string
}

func (e userError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return userError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// parseUser reads a bare account JID on a served domain.
func (c *Console) parseUser(s string) (jid.JID, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "@") && s != "" {
		s += "@" + c.Config.DefaultDomain()
	}
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return jid.JID{}, badRequest("%q is not an account address; write name@domain.", s)
	}
	if !c.Config.Serves(j.Domain()) {
		return jid.JID{}, badRequest("%s is not a domain this server serves (%s).", j.Domain(), strings.Join(c.Config.Domains, ", "))
	}
	return j, nil
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, lg *login) {
	c.render(w, r, http.StatusOK, "dashboard", lg, c.dashboardData(r.Context()))
}

// live is the dashboard's figures and chart alone, fetched by live.js.
func (c *Console) live(w http.ResponseWriter, r *http.Request, lg *login) {
	c.render(w, r, http.StatusOK, "live", lg, c.dashboardData(r.Context()))
}

func (c *Console) dashboardData(ctx context.Context) map[string]any {
	return map[string]any{"Stats": c.liveStats(ctx), "Points": c.stats.points(), "Every": c.cfg.SampleInterval.D().String(),
		"EveryMS": c.cfg.SampleInterval.D().Milliseconds()}
}

// users lists accounts matching q (a substring of the address), at most
// limit of them, and whether there were more.
func (c *Console) users(ctx context.Context, q string, limit int) ([]jid.JID, bool, error) {
	var out []jid.JID
	q = strings.ToLower(strings.TrimSpace(q))
	for _, d := range c.Config.Domains {
		all, err := c.Accounts.List(ctx, d)
		if err != nil {
			return nil, false, err
		}
		for _, j := range all {
			if q == "" || strings.Contains(j.String(), q) {
				out = append(out, j)
			}
		}
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, lg *login) {
	q := r.URL.Query().Get("q")
	list, more, err := c.users(r.Context(), q, 200)
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	online := map[jid.JID]int{}
	for _, s := range c.Sessions.All() {
		online[s.JID().Bare()]++
	}
	type row struct {
		JID    jid.JID
		Online int
	}
	rows := make([]row, len(list))
	for i, j := range list {
		rows[i] = row{j, online[j]}
	}
	c.render(w, r, http.StatusOK, "users", lg, map[string]any{"Q": q, "Users": rows, "More": more, "Domain": c.Config.DefaultDomain()})
}

func (c *Console) userCreate(w http.ResponseWriter, r *http.Request, lg *login) {
	j, err := c.parseUser(r.PostFormValue("jid"))
	if err == nil {
		err = c.Accounts.Create(r.Context(), j, r.PostFormValue("password"))
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "user.create", j.String(), "")
	done(w, r, "/user?jid="+urlQueryEscape(j.String()), "Account "+j.String()+" created.")
}

func (c *Console) userPage(w http.ResponseWriter, r *http.Request, lg *login) {
	j, err := c.parseUser(r.URL.Query().Get("jid"))
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	ctx := r.Context()
	if ok, err := c.Accounts.Exists(ctx, j); err != nil || !ok {
		if err == nil {
			err = account.ErrNotFound
		}
		c.failed(w, r, lg, err)
		return
	}
	disabled, err := c.Accounts.Disabled(ctx, j)
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	data := map[string]any{"JID": j, "Disabled": disabled, "Sessions": c.sessionRows(func(s module.Session) bool { return s.JID().Bare() == j })}
	if c.Rosters != nil {
		items, err := c.Rosters.Roster(ctx, j)
		if err != nil {
			c.failed(w, r, lg, err)
			return
		}
		data["Roster"], data["HasRoster"] = items, true
	}
	if c.Keys != nil {
		pep, omemo, err := c.Keys.HasPEP(ctx, j)
		if err != nil {
			c.failed(w, r, lg, err)
			return
		}
		data["HasKeys"], data["PEP"], data["OMEMO"] = true, pep, omemo
	}
	c.render(w, r, http.StatusOK, "user", lg, data)
}

func (c *Console) userDelete(w http.ResponseWriter, r *http.Request, lg *login) {
	j, err := c.parseUser(r.PostFormValue("jid"))
	if err == nil {
		err = c.deleteUser(r.Context(), j)
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "user.delete", j.String(), "")
	done(w, r, "/users", "Account "+j.String()+" deleted.")
}

// deleteUser removes the account and ends its sessions.
func (c *Console) deleteUser(ctx context.Context, j jid.JID) error {
	if err := c.Accounts.Delete(ctx, j); err != nil {
		return err
	}
	c.kick(func(s module.Session) bool { return s.JID().Bare() == j }, stream.NotAuthorized, "the account was deleted")
	return c.logins.endUser(ctx, j)
}

func (c *Console) userPassword(w http.ResponseWriter, r *http.Request, lg *login) {
	j, err := c.parseUser(r.PostFormValue("jid"))
	if err == nil {
		err = c.Accounts.SetPassword(r.Context(), j, r.PostFormValue("password"))
	}
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.audit(r, lg.user.String(), "user.password", j.String(), "password reset")
	done(w, r, "/user?jid="+urlQueryEscape(j.String()), "The password of "+j.String()+" was changed.")
}

func (c *Console) userKick(w http.ResponseWriter, r *http.Request, lg *login) {
	j, err := c.parseUser(r.PostFormValue("jid"))
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	n := c.kick(func(s module.Session) bool { return s.JID().Bare() == j }, stream.PolicyViolation, "disconnected by an administrator")
	c.audit(r, lg.user.String(), "session.kick", j.String(), fmt.Sprintf("%d sessions", n))
	done(w, r, "/user?jid="+urlQueryEscape(j.String()), fmt.Sprintf("%d sessions of %s disconnected.", n, j))
}

// kick closes the sessions match selects and says how many.
func (c *Console) kick(match func(module.Session) bool, cond, text string) int {
	n := 0
	for _, s := range c.Sessions.All() {
		if match(s) {
			s.Close(cond, text)
			n++
		}
	}
	return n
}

// SessionRow describes a bound session (also GET /api/v1/sessions).
type SessionRow struct {
	JID        string    `json:"jid"`
	Resource   string    `json:"resource"`
	Address    string    `json:"address"`
	Transport  string    `json:"transport"`
	TLSVersion string    `json:"tls_version"`
	Mechanism  string    `json:"mechanism"`
	SM         string    `json:"sm"`
	Client     string    `json:"client"`
	Available  bool      `json:"available"`
	Priority   int       `json:"priority"`
	Since      time.Time `json:"since"`
}

func (c *Console) sessionRows(match func(module.Session) bool) []SessionRow {
	var out []SessionRow
	for _, s := range c.Sessions.All() {
		if match != nil && !match(s) {
			continue
		}
		row := SessionRow{JID: s.JID().String(), Resource: s.JID().Resource(), Transport: "other"}
		row.Available, row.Priority = s.Presence()
		if i, ok := s.(interface{ Info() c2s.Info }); ok {
			in := i.Info()
			row.Address, row.Transport, row.TLSVersion, row.Mechanism, row.Since = in.Addr, in.Transport, in.TLSVersion, in.Mechanism, in.Bound
			row.SM, row.Client = in.SM, in.Client
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b SessionRow) int { return strings.Compare(a.JID, b.JID) })
	return out
}

func (c *Console) sessionsPage(w http.ResponseWriter, r *http.Request, lg *login) {
	c.render(w, r, http.StatusOK, "sessions", lg, map[string]any{"Sessions": c.sessionRows(nil)})
}

func (c *Console) sessionKick(w http.ResponseWriter, r *http.Request, lg *login) {
	full, err := jid.Parse(r.PostFormValue("jid"))
	if err != nil {
		c.failed(w, r, lg, badRequest("%q is not a session address.", r.PostFormValue("jid")))
		return
	}
	n := c.kick(func(s module.Session) bool { return s.JID() == full }, stream.PolicyViolation, "disconnected by an administrator")
	if n == 0 {
		c.failed(w, r, lg, userError{http.StatusNotFound, "That session has already ended."})
		return
	}
	c.audit(r, lg.user.String(), "session.kick", full.String(), "")
	done(w, r, "/sessions", "Session "+full.String()+" disconnected.")
}

func (c *Console) configPage(w http.ResponseWriter, r *http.Request, lg *login) {
	c.render(w, r, http.StatusOK, "config", lg, map[string]any{"Settings": c.Config.Settings(), "File": c.Config.Source()})
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, lg *login) {
	entries, err := c.store.AuditLog(r.Context(), 500)
	if err != nil {
		c.failed(w, r, lg, err)
		return
	}
	c.render(w, r, http.StatusOK, "audit", lg, map[string]any{"Entries": entries})
}

// byteSize writes n bytes for people: "512 B", "1.5 MiB".
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
