package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// Where a setting's value came from (Setting.Source).
const (
	FromDefault = "default"
	FromFile    = "file"
	FromFlag    = "flag"
)

// Setting is one key of the effective configuration, for display (the
// admin console's configuration page).
type Setting struct {
	Key    string // dotted TOML key, e.g. "c2s.addr"
	Value  string // the value as TOML would write it; secrets redacted
	Source string // FromDefault, FromFile or FromFlag
}

// Redacted replaces the value of settings that may hold a secret.
const Redacted = "(hidden)"

// Settings lists every key of the schema with its effective value and
// where the value came from, in schema order. Values of keys that may
// carry a password (storage.dsn) are redacted.
func (c Config) Settings() []Setting {
	var out []Setting
	c.walk(nil, reflect.ValueOf(c), &out)
	return out
}

func (c Config) walk(prefix toml.Key, v reflect.Value, out *[]Setting) {
	t := v.Type()
	for i := range t.NumField() {
		name := tagName(t.Field(i))
		if name == "" {
			continue
		}
		key := append(prefix[:len(prefix):len(prefix)], name)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[Duration]() {
			c.walk(key, f, out)
			continue
		}
		s := Setting{Key: key.String(), Value: formatValue(f), Source: c.sourceOf(key)}
		if secretKey(s.Key) && s.Value != `""` {
			s.Value = Redacted
		}
		*out = append(*out, s)
	}
}

// sourceOf says where key's value came from: a flag, the file (the key,
// or for a map one of its entries), or the defaults.
func (c Config) sourceOf(key toml.Key) string {
	if c.src == nil {
		return FromDefault
	}
	k := key.String()
	if c.src.overridden[k] {
		return FromFlag
	}
	if c.src.defined[k] {
		return FromFile
	}
	for d := range c.src.defined {
		if strings.HasPrefix(d, k+".") {
			return FromFile
		}
	}
	return FromDefault
}

func secretKey(k string) bool {
	return k == "storage.dsn" || strings.Contains(k, "password") || strings.Contains(k, "secret")
}

func formatValue(v reflect.Value) string {
	if m, ok := v.Interface().(interface{ MarshalText() ([]byte, error) }); ok {
		b, err := m.MarshalText()
		if err == nil {
			return fmt.Sprintf("%q", b)
		}
	}
	switch v.Kind() {
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		var b strings.Builder
		b.WriteString("{")
		for i, k := range v.MapKeys() {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q = %v", k.String(), v.MapIndex(k).Interface())
		}
		b.WriteString("}")
		return b.String()
	}
	return fmt.Sprint(v.Interface())
}
