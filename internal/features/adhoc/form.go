package adhoc

import "github.com/parleyim/parley/internal/stanza"

// NSData is the namespace of XEP-0004 data forms.
const NSData = "jabber:x:data"

// Form is a data form being built (XEP-0004).
type Form struct{ X *stanza.Element }

// NewForm returns a form of typ ("form" or "result") with a title and a
// hidden FORM_TYPE when formType is set.
func NewForm(typ, title, formType string) *Form {
	f := &Form{X: stanza.New(NSData, "x").SetAttr("type", typ)}
	if title != "" {
		f.X.Append(stanza.New(NSData, "title").AppendText(title))
	}
	if formType != "" {
		f.Field("FORM_TYPE", "hidden", "", false, formType)
	}
	return f
}

// Field adds a field; required adds <required/>.
func (f *Form) Field(v, typ, label string, required bool, values ...string) *Form {
	el := stanza.New(NSData, "field").SetAttr("var", v)
	if typ != "" {
		el.SetAttr("type", typ)
	}
	if label != "" {
		el.SetAttr("label", label)
	}
	if required {
		el.Append(stanza.New(NSData, "required"))
	}
	for _, val := range values {
		el.Append(stanza.New(NSData, "value").AppendText(val))
	}
	f.X.Append(el)
	return f
}

// fields reads a submitted form: var → values.
func fields(x *stanza.Element) map[string][]string {
	out := map[string][]string{}
	for _, c := range x.ChildElements() {
		if c.Space != NSData || c.Local != "field" || c.Attr("var") == "" {
			continue
		}
		vals := []string{}
		for _, v := range c.ChildElements() {
			if v.Space == NSData && v.Local == "value" {
				vals = append(vals, v.Text())
			}
		}
		out[c.Attr("var")] = vals
	}
	return out
}
