package muc

import (
	"fmt"
	"strconv"

	"github.com/parleyim/parley/internal/stanza"
)

// RoomConfig is a room's configuration (XEP-0045 §10.2, muc#roomconfig).
// It is stored as JSON for persistent rooms.
type RoomConfig struct {
	Name              string `json:"name,omitempty"`
	Description       string `json:"description,omitempty"`
	Persistent        bool   `json:"persistent,omitempty"`
	Public            bool   `json:"public,omitempty"`
	MembersOnly       bool   `json:"members_only,omitempty"`
	Moderated         bool   `json:"moderated,omitempty"`
	PasswordProtected bool   `json:"password_protected,omitempty"`
	Password          string `json:"password,omitempty"`
	// Whois is "moderators" (semi-anonymous) or "anyone" (non-anonymous).
	Whois    string `json:"whois"`
	MaxUsers int    `json:"max_users"`
	// ChangeSubject lets participants change the subject (moderators
	// always may).
	ChangeSubject bool `json:"change_subject,omitempty"`
	// AllowPM says who may send private messages: anyone, participants,
	// moderators or none.
	AllowPM string `json:"allow_pm"`
}

// defaultConfig is the configuration of a new room.
func defaultConfig(maxUsers int) RoomConfig {
	return RoomConfig{Public: true, Whois: "moderators", MaxUsers: maxUsers, ChangeSubject: true, AllowPM: "anyone"}
}

// NonAnonymous reports whether every occupant sees real JIDs.
func (c RoomConfig) NonAnonymous() bool { return c.Whois == "anyone" }

// Form field names of muc#roomconfig.
const (
	fRoomName   = "muc#roomconfig_roomname"
	fRoomDesc   = "muc#roomconfig_roomdesc"
	fPersistent = "muc#roomconfig_persistentroom"
	fPublic     = "muc#roomconfig_publicroom"
	fMembers    = "muc#roomconfig_membersonly"
	fModerated  = "muc#roomconfig_moderatedroom"
	fPassword   = "muc#roomconfig_passwordprotectedroom"
	fSecret     = "muc#roomconfig_roomsecret"
	fWhois      = "muc#roomconfig_whois"
	fMaxUsers   = "muc#roomconfig_maxusers"
	fSubject    = "muc#roomconfig_changesubject"
	fAllowPM    = "muc#roomconfig_allowpm"
)

// form is a jabber:x:data form being built (XEP-0004).
type form struct{ x *stanza.Element }

func newForm(typ, formType, title string) *form {
	f := &form{x: stanza.New(nsData, "x").SetAttr("type", typ)}
	if title != "" {
		f.x.Append(stanza.New(nsData, "title").AppendText(title))
	}
	f.field("FORM_TYPE", "hidden", "", formType)
	return f
}

// field adds a field with the given values; options (for list-single) are
// value/label pairs.
func (f *form) field(v, typ, label string, values ...string) *stanza.Element {
	el := stanza.New(nsData, "field").SetAttr("var", v)
	if typ != "" {
		el.SetAttr("type", typ)
	}
	if label != "" {
		el.SetAttr("label", label)
	}
	for _, val := range values {
		el.Append(stanza.New(nsData, "value").AppendText(val))
	}
	f.x.Append(el)
	return el
}

func (f *form) options(field *stanza.Element, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		field.Append(stanza.New(nsData, "option").SetAttr("label", pairs[i+1]).
			Append(stanza.New(nsData, "value").AppendText(pairs[i])))
	}
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// configForm returns the muc#roomconfig form holding c (§10.2).
func configForm(c RoomConfig, max int, room string) *stanza.Element {
	f := newForm("form", NSRoomConf, "Configuration of "+room)
	f.field(fRoomName, "text-single", "Name", c.Name)
	f.field(fRoomDesc, "text-single", "Description", c.Description)
	f.field(fPersistent, "boolean", "Keep the room when the last occupant leaves", boolValue(c.Persistent))
	f.field(fPublic, "boolean", "List the room in the directory", boolValue(c.Public))
	f.field(fMembers, "boolean", "Only members may enter", boolValue(c.MembersOnly))
	f.field(fModerated, "boolean", "Only participants with voice may speak", boolValue(c.Moderated))
	f.field(fPassword, "boolean", "A password is required to enter", boolValue(c.PasswordProtected))
	f.field(fSecret, "text-private", "Password", c.Password)
	f.options(f.field(fWhois, "list-single", "Who may see real JIDs", c.Whois),
		"moderators", "Moderators only", "anyone", "Anyone")
	mu := f.field(fMaxUsers, "list-single", "Most occupants", strconv.Itoa(c.MaxUsers))
	var opts []string
	for _, n := range []int{5, 10, 20, 30, 50, 100, 200, 500, 1000} {
		if n < max {
			opts = append(opts, strconv.Itoa(n), strconv.Itoa(n))
		}
	}
	f.options(mu, append(opts, strconv.Itoa(max), strconv.Itoa(max))...)
	f.field(fSubject, "boolean", "Participants may change the subject", boolValue(c.ChangeSubject))
	f.options(f.field(fAllowPM, "list-single", "Who may send private messages", c.AllowPM),
		"anyone", "Anyone", "participants", "Participants", "moderators", "Moderators", "none", "Nobody")
	return f.x
}

// formValues reads the fields of a submitted form: var → values.
func formValues(x *stanza.Element) map[string][]string {
	out := map[string][]string{}
	for _, c := range x.ChildElements() {
		if c.Space != nsData || c.Local != "field" || c.Attr("var") == "" {
			continue
		}
		var vals []string
		for _, v := range c.ChildElements() {
			if v.Space == nsData && v.Local == "value" {
				vals = append(vals, v.Text())
			}
		}
		out[c.Attr("var")] = vals
	}
	return out
}

func parseBool(field, s string) (bool, error) {
	switch s {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, errorf(stanza.BadRequest, "%s: %q is not a boolean", field, s)
}

// applyConfig returns c changed by a submitted muc#roomconfig form; it
// fails with a stanza error (and changes nothing) on a bad value.
func applyConfig(c RoomConfig, x *stanza.Element, max int) (RoomConfig, error) {
	vals := formValues(x)
	if ft := vals["FORM_TYPE"]; len(ft) > 0 && ft[0] != NSRoomConf {
		return c, errorf(stanza.BadRequest, "the form is %q, not %s", ft[0], NSRoomConf)
	}
	one := func(k string) (string, bool) {
		v, ok := vals[k]
		if !ok {
			return "", false
		}
		if len(v) == 0 {
			return "", true
		}
		return v[0], true
	}
	bools := []struct {
		k string
		p *bool
	}{{fPersistent, &c.Persistent}, {fPublic, &c.Public}, {fMembers, &c.MembersOnly},
		{fModerated, &c.Moderated}, {fPassword, &c.PasswordProtected}, {fSubject, &c.ChangeSubject}}
	for _, b := range bools {
		if s, ok := one(b.k); ok {
			v, err := parseBool(b.k, s)
			if err != nil {
				return c, err
			}
			*b.p = v
		}
	}
	if s, ok := one(fRoomName); ok {
		c.Name = s
	}
	if s, ok := one(fRoomDesc); ok {
		c.Description = s
	}
	if s, ok := one(fSecret); ok {
		c.Password = s
	}
	if s, ok := one(fWhois); ok {
		if s != "moderators" && s != "anyone" {
			return c, errorf(stanza.NotAcceptable, "%s must be moderators or anyone", fWhois)
		}
		c.Whois = s
	}
	if s, ok := one(fAllowPM); ok {
		switch s {
		case "anyone", "participants", "moderators", "none":
		default:
			return c, errorf(stanza.NotAcceptable, "%s must be anyone, participants, moderators or none", fAllowPM)
		}
		c.AllowPM = s
	}
	if s, ok := one(fMaxUsers); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > max {
			return c, errorf(stanza.NotAcceptable, "%s must be a number from 1 to %d", fMaxUsers, max)
		}
		c.MaxUsers = n
	}
	if c.PasswordProtected && c.Password == "" {
		return c, errorf(stanza.NotAcceptable, "a password-protected room needs %s", fSecret)
	}
	if len(c.Name) > 1024 || len(c.Description) > 4096 || len(c.Password) > 1024 {
		return c, errorf(stanza.NotAcceptable, "name, description or password too long")
	}
	return c, nil
}

// features returns the disco#info features describing c (§6.4, the muc_*
// registry of §16.4.1).
func (c RoomConfig) features() []string {
	pick := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	return []string{
		NS,
		pick(c.Public, "muc_public", "muc_hidden"),
		pick(c.Persistent, "muc_persistent", "muc_temporary"),
		pick(c.MembersOnly, "muc_membersonly", "muc_open"),
		pick(c.NonAnonymous(), "muc_nonanonymous", "muc_semianonymous"),
		pick(c.PasswordProtected, "muc_passwordprotected", "muc_unsecured"),
		pick(c.Moderated, "muc_moderated", "muc_unmoderated"),
		nsStanzaID, nsOccupant, nsSelfPing, nsIQRegister, NSRequest,
	}
}

func (c RoomConfig) String() string {
	return fmt.Sprintf("%+v", struct {
		Name                                                          string
		Persistent, Public, MembersOnly, Moderated, PasswordProtected bool
		Whois                                                         string
		MaxUsers                                                      int
	}{c.Name, c.Persistent, c.Public, c.MembersOnly, c.Moderated, c.PasswordProtected, c.Whois, c.MaxUsers})
}
