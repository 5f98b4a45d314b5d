package pubsub

import (
	"slices"
	"strconv"
	"strings"

	"github.com/parleyim/parley/internal/stanza"
)

// Affiliation is an entity's affiliation with a node (XEP-0060 §4.1).
type Affiliation string

// Affiliations, from the most to the least privileged.
const (
	AffOwner       Affiliation = "owner"
	AffPublisher   Affiliation = "publisher"
	AffPublishOnly Affiliation = "publish-only"
	AffMember      Affiliation = "member"
	AffNone        Affiliation = "none"
	AffOutcast     Affiliation = "outcast"
)

func validAffiliation(s string) bool {
	switch Affiliation(s) {
	case AffOwner, AffPublisher, AffPublishOnly, AffMember, AffNone, AffOutcast:
		return true
	}
	return false
}

// Access models (XEP-0060 §4.5).
const (
	AccessOpen      = "open"
	AccessPresence  = "presence"
	AccessRoster    = "roster"
	AccessWhitelist = "whitelist"
	AccessAuthorize = "authorize"
)

// send_last_published_item values.
const (
	SendNever        = "never"
	SendOnSub        = "on_sub"
	SendOnSubAndPres = "on_sub_and_presence"
)

// NodeConfig is a node's configuration (XEP-0060 §16.4.4
// pubsub#node_config); its JSON form is stored.
type NodeConfig struct {
	Title              string   `json:"title,omitempty"`
	Type               string   `json:"type,omitempty"` // payload namespace
	AccessModel        string   `json:"access_model"`
	RosterGroups       []string `json:"roster_groups,omitempty"`
	PublishModel       string   `json:"publish_model"` // publishers, subscribers, open
	MaxItems           int      `json:"max_items"`     // 0 is taken as the service's maximum
	PersistItems       bool     `json:"persist_items"`
	DeliverPayloads    bool     `json:"deliver_payloads"`
	DeliverNotify      bool     `json:"deliver_notifications"`
	NotifyRetract      bool     `json:"notify_retract"`
	NotifyDelete       bool     `json:"notify_delete"`
	NotifyConfig       bool     `json:"notify_config"`
	SendLastPublished  string   `json:"send_last_published_item"`
	PresenceBased      bool     `json:"presence_based_delivery,omitempty"`
	NotificationType   string   `json:"notification_type,omitempty"` // headline (default) or normal
	MaxPayloadBytes    int      `json:"max_payload_size,omitempty"`
	ChildrenAssociated []string `json:"-"`
}

// defaultConfig is the configuration of a new node: PEP nodes are
// presence-shared with one item (XEP-0163 §4.2), service nodes open.
func defaultConfig(pep bool, maxItems int) NodeConfig {
	c := NodeConfig{
		AccessModel: AccessOpen, PublishModel: "publishers", MaxItems: min(10, maxItems), PersistItems: true,
		DeliverPayloads: true, DeliverNotify: true, NotifyRetract: true, NotifyDelete: true, NotifyConfig: false,
		SendLastPublished: SendNever, NotificationType: "headline",
	}
	if pep {
		c.AccessModel, c.MaxItems, c.SendLastPublished = AccessPresence, 1, SendOnSubAndPres
	}
	return c
}

// Namespaces of the forms.
const (
	NSData        = "jabber:x:data"
	formNodeCfg   = "http://jabber.org/protocol/pubsub#node_config"
	formPubOpts   = "http://jabber.org/protocol/pubsub#publish-options"
	formSubOpts   = "http://jabber.org/protocol/pubsub#subscribe_options"
	formSubAuth   = "http://jabber.org/protocol/pubsub#subscribe_authorization"
	formMetaData  = "http://jabber.org/protocol/pubsub#meta-data"
	fieldFormType = "FORM_TYPE"
)

// form is a submitted XEP-0004 data form: field values by var.
type form map[string][]string

// parseForm reads the <x xmlns='jabber:x:data'/> child of el (nil: none).
func parseForm(el *stanza.Element) form {
	if el == nil {
		return nil
	}
	x := el.Child(NSData, "x")
	if x == nil {
		return nil
	}
	f := form{}
	for _, fld := range x.ChildElements() {
		if fld.Local != "field" || fld.Attr("var") == "" {
			continue
		}
		var vals []string
		for _, v := range fld.ChildElements() {
			if v.Local == "value" {
				vals = append(vals, v.Text())
			}
		}
		f[fld.Attr("var")] = vals
	}
	return f
}

func (f form) one(name string) (string, bool) {
	v, ok := f[name]
	if !ok {
		return "", false
	}
	if len(v) == 0 {
		return "", true
	}
	return v[0], true
}

func parseBool(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "1", "true":
		return true, true
	case "0", "false":
		return false, true
	}
	return false, false
}

// formError is the error for a field value this server does not accept.
func formError(field, value string) *stanza.Error {
	return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "%s=%q is not supported", field, value)
}

// apply sets the fields of f onto c, checking each value. maxItems is the
// service's limit ("max" stands for it).
func (c *NodeConfig) apply(f form, maxItems int) *stanza.Error {
	for name, vals := range f {
		v := ""
		if len(vals) > 0 {
			v = vals[0]
		}
		if err := c.set(name, v, vals, maxItems); err != nil {
			return err
		}
	}
	return nil
}

func (c *NodeConfig) set(name, v string, vals []string, maxItems int) *stanza.Error {
	boolField := func(dst *bool) *stanza.Error {
		b, ok := parseBool(v)
		if !ok {
			return formError(name, v)
		}
		*dst = b
		return nil
	}
	switch name {
	case fieldFormType:
	case "pubsub#title":
		c.Title = v
	case "pubsub#type":
		c.Type = v
	case "pubsub#access_model":
		switch v {
		case AccessOpen, AccessPresence, AccessRoster, AccessWhitelist, AccessAuthorize:
			c.AccessModel = v
		default:
			return formError(name, v)
		}
	case "pubsub#roster_groups_allowed":
		c.RosterGroups = slices.Clone(vals)
	case "pubsub#publish_model":
		switch v {
		case "publishers", "subscribers", "open":
			c.PublishModel = v
		default:
			return formError(name, v)
		}
	case "pubsub#max_items":
		n, err := parseMaxItems(v, maxItems)
		if err != nil {
			return err
		}
		c.MaxItems = n
	case "pubsub#persist_items":
		return boolField(&c.PersistItems)
	case "pubsub#deliver_payloads":
		return boolField(&c.DeliverPayloads)
	case "pubsub#deliver_notifications":
		return boolField(&c.DeliverNotify)
	case "pubsub#notify_retract":
		return boolField(&c.NotifyRetract)
	case "pubsub#notify_delete":
		return boolField(&c.NotifyDelete)
	case "pubsub#notify_config":
		return boolField(&c.NotifyConfig)
	case "pubsub#presence_based_delivery":
		return boolField(&c.PresenceBased)
	case "pubsub#send_last_published_item":
		switch v {
		case SendNever, SendOnSub, SendOnSubAndPres:
			c.SendLastPublished = v
		default:
			return formError(name, v)
		}
	case "pubsub#notification_type":
		if v != "headline" && v != "normal" {
			return formError(name, v)
		}
		c.NotificationType = v
	case "pubsub#max_payload_size":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return formError(name, v)
		}
		c.MaxPayloadBytes = n
	default:
		// Fields this server does not implement are ignored when they ask
		// for nothing (XEP-0060 §8.2.4 lets a service reject them; clients
		// send many it does not need).
	}
	return nil
}

func parseMaxItems(v string, limit int) (int, *stanza.Error) {
	if v == "max" {
		return limit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, formError("pubsub#max_items", v)
	}
	if n > limit {
		return 0, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "pubsub#max_items is %d; this service keeps at most %d", n, limit)
	}
	return n, nil
}

// fields returns c as form fields (var, type, values).
func (c NodeConfig) fields(limit int) []formField {
	b := func(x bool) []string {
		if x {
			return []string{"1"}
		}
		return []string{"0"}
	}
	return []formField{
		{"pubsub#title", "text-single", []string{c.Title}, nil},
		{"pubsub#type", "text-single", []string{c.Type}, nil},
		{"pubsub#access_model", "list-single", []string{c.AccessModel}, []string{AccessOpen, AccessPresence, AccessRoster, AccessWhitelist, AccessAuthorize}},
		{"pubsub#roster_groups_allowed", "list-multi", c.RosterGroups, nil},
		{"pubsub#publish_model", "list-single", []string{c.PublishModel}, []string{"publishers", "subscribers", "open"}},
		{"pubsub#max_items", "text-single", []string{strconv.Itoa(c.MaxItems)}, nil},
		{"pubsub#persist_items", "boolean", b(c.PersistItems), nil},
		{"pubsub#deliver_payloads", "boolean", b(c.DeliverPayloads), nil},
		{"pubsub#deliver_notifications", "boolean", b(c.DeliverNotify), nil},
		{"pubsub#notify_retract", "boolean", b(c.NotifyRetract), nil},
		{"pubsub#notify_delete", "boolean", b(c.NotifyDelete), nil},
		{"pubsub#notify_config", "boolean", b(c.NotifyConfig), nil},
		{"pubsub#presence_based_delivery", "boolean", b(c.PresenceBased), nil},
		{"pubsub#send_last_published_item", "list-single", []string{c.SendLastPublished}, []string{SendNever, SendOnSub, SendOnSubAndPres}},
		{"pubsub#notification_type", "list-single", []string{c.NotificationType}, []string{"headline", "normal"}},
		{"pubsub#max_payload_size", "text-single", []string{strconv.Itoa(c.MaxPayloadBytes)}, nil},
	}
}

type formField struct {
	Var, Type string
	Values    []string
	Options   []string
}

// renderForm builds a data form of type typ with FORM_TYPE formType.
func renderForm(typ, formType string, fields []formField) *stanza.Element {
	x := stanza.New(NSData, "x").SetAttr("type", typ)
	x.Append(stanza.New(NSData, "field").SetAttr("var", fieldFormType).SetAttr("type", "hidden").
		Append(stanza.New(NSData, "value").AppendText(formType)))
	for _, f := range fields {
		el := stanza.New(NSData, "field").SetAttr("var", f.Var)
		if f.Type != "" {
			el.SetAttr("type", f.Type)
		}
		for _, o := range f.Options {
			el.Append(stanza.New(NSData, "option").Append(stanza.New(NSData, "value").AppendText(o)))
		}
		for _, v := range f.Values {
			el.Append(stanza.New(NSData, "value").AppendText(v))
		}
		x.Append(el)
	}
	return x
}

// precondition checks publish-options against an existing node's
// configuration (XEP-0223 §4; XEP-0060 §7.1.5): every field must hold
// already, else the publish fails with precondition-not-met.
func (c NodeConfig) precondition(f form, limit int) *stanza.Error {
	want := c
	if err := want.apply(f, limit); err != nil {
		return preconditionNotMet(err.Text)
	}
	for name := range f {
		if name == fieldFormType {
			continue
		}
		if !slices.Equal(fieldValues(c, name, limit), fieldValues(want, name, limit)) {
			return preconditionNotMet("the node's " + name + " is " + strings.Join(fieldValues(c, name, limit), ","))
		}
	}
	return nil
}

func fieldValues(c NodeConfig, name string, limit int) []string {
	for _, f := range c.fields(limit) {
		if f.Var == name {
			return f.Values
		}
	}
	return nil
}

// NSErrors is the namespace of PubSub's application error conditions.
const NSErrors = "http://jabber.org/protocol/pubsub#errors"

// pubsubError returns a stanza error with a pubsub#errors condition.
func pubsubError(typ, cond, app, text string) *stanza.Error {
	e := stanza.Errorf(typ, cond, "%s", text)
	if text == "" {
		e.Text = ""
	}
	e.App = stanza.New(NSErrors, app)
	return e
}

func preconditionNotMet(text string) *stanza.Error {
	return pubsubError(stanza.Cancel, stanza.Conflict, "precondition-not-met", text)
}
