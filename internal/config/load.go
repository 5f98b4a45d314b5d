package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// source remembers where a loaded Config came from, to put file names and
// line numbers on the problems Validate finds.
type source struct {
	file       string
	lines      map[string]int  // key path → line of first definition
	defined    map[string]bool // keys present in the file
	overridden map[string]bool // keys set after Load (flags)
}

// Load reads the TOML file at path over Default(): keys the file leaves
// out keep their default. It reports syntax errors, values of the wrong
// type and unknown keys (TOML keys are case-sensitive), each as a *Problem
// with the key and line; several problems are joined with errors.Join.
//
// Load does not call Validate: callers apply their overrides (flags) first
// and validate the result.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	return parse(path, string(data))
}

// parse is Load without the file system; name is used in problems.
func parse(name, text string) (Config, error) {
	// First pass: syntax only, and the list of keys present.
	var raw map[string]any
	md, err := toml.Decode(text, &raw)
	if err != nil {
		return Config{}, syntaxProblem(name, err)
	}
	lines := keyLines(text)
	src := &source{file: name, lines: lines, defined: make(map[string]bool)}

	var problems []*Problem
	unknown := make(map[string]bool)
	for _, k := range md.Keys() {
		src.defined[k.String()] = true
		if hasUnknownParent(k, unknown) {
			continue
		}
		if _, ok := schemaType(k); !ok {
			unknown[k.String()] = true
			problems = append(problems, unknownKeyProblem(name, lines, k))
		}
	}

	// Second pass: decode over the defaults.
	cfg := Default()
	md2, err := toml.Decode(text, &cfg)
	if err != nil {
		problems = append(problems, decodeProblem(name, lines, err))
	} else {
		// Safety net: anything the decoder did not use and the schema walk
		// did not flag.
		for _, k := range md2.Undecoded() {
			if unknown[k.String()] || hasUnknownParent(k, unknown) {
				continue
			}
			unknown[k.String()] = true
			problems = append(problems, unknownKeyProblem(name, lines, k))
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b *Problem) int { return a.Line - b.Line })
		return Config{}, joinProblems(problems)
	}
	cfg.src = src
	return cfg, nil
}

func hasUnknownParent(k toml.Key, unknown map[string]bool) bool {
	for n := len(k) - 1; n > 0; n-- {
		if unknown[k[:n].String()] {
			return true
		}
	}
	return false
}

func syntaxProblem(name string, err error) *Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		p := &Problem{File: name, Line: pe.Position.Line, Msg: "syntax error: " + pe.Message, Err: err}
		if pe.LastKey != "" {
			p.Msg = fmt.Sprintf("syntax error after key %q: %s", pe.LastKey, pe.Message)
		}
		return p
	}
	return &Problem{File: name, Msg: "syntax error: " + err.Error(), Err: err}
}

// typeErrRE matches the decoder's unexported type-mismatch errors, which
// carry the line and key only in their text:
// `toml: line 3 (last key "limits.max_depth"): incompatible types: ...`.
var typeErrRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key ("(?:[^"\\]|\\.)*")\): (.*)$`)

func decodeProblem(name string, lines map[string]int, err error) *Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Problem{File: name, Line: pe.Position.Line, Key: pe.LastKey,
			Msg: "invalid value: " + pe.Message, Err: err}
	}
	if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
		key, uerr := strconv.Unquote(m[2])
		if uerr != nil {
			key = m[2]
		}
		line, _ := strconv.Atoi(m[1])
		if line == 0 {
			line = lines[key]
		}
		return &Problem{File: name, Line: line, Key: key,
			Msg: "invalid value: " + m[3] + fixForType(key), Err: err}
	}
	return &Problem{File: name, Msg: "invalid value: " + err.Error(), Err: err}
}

// fixForType says what type key expects, for a type-mismatch message.
func fixForType(key string) string {
	t, ok := schemaType(splitKeyLoose(key))
	if !ok {
		return ""
	}
	switch {
	case t == reflect.TypeFor[Duration]():
		return `; write a quoted duration such as "30s" or "5m"`
	case t.Kind() == reflect.Bool:
		return "; write true or false"
	case t.Kind() == reflect.Int:
		return "; write a whole number without quotes"
	case t.Kind() == reflect.String:
		return "; write a quoted string"
	case t.Kind() == reflect.Slice:
		return `; write an array of strings such as ["example.org"]`
	}
	return ""
}

// splitKeyLoose splits a dotted key as formatted by toml.Key.String back
// into parts; quoted parts are unquoted. Good enough for schema look-ups.
func splitKeyLoose(s string) toml.Key {
	var parts toml.Key
	for s != "" {
		if s[0] == '"' {
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return append(parts, s)
			}
			part, err := strconv.Unquote(s[:end+1])
			if err != nil {
				part = s[1:end]
			}
			parts = append(parts, part)
			s = strings.TrimPrefix(s[end+1:], ".")
			continue
		}
		part, rest, _ := strings.Cut(s, ".")
		parts = append(parts, part)
		s = rest
	}
	return parts
}

func unknownKeyProblem(name string, lines map[string]int, k toml.Key) *Problem {
	p := &Problem{File: name, Line: lineOf(lines, k), Key: k.String()}
	parent := k[:len(k)-1]
	known := schemaChildren(parent)
	if s := closest(k[len(k)-1], known); s != "" {
		p.Msg = fmt.Sprintf("unknown key; did you mean %s?", append(slices.Clone(parent), s).String())
	} else if len(known) > 0 {
		where := "at the top level"
		if len(parent) > 0 {
			where = "in [" + parent.String() + "]"
		}
		p.Msg = fmt.Sprintf("unknown key; valid keys %s are: %s (see docs/configuration.md)",
			where, strings.Join(known, ", "))
	} else {
		p.Msg = "unknown key; remove it (see docs/configuration.md)"
	}
	return p
}

// schemaType returns the Go type that key decodes into, and whether the
// schema has such a key. Struct fields match their toml tag exactly; any
// key matches inside a map.
func schemaType(key toml.Key) (reflect.Type, bool) {
	t := reflect.TypeFor[Config]()
	for _, part := range key {
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByTag(t, part)
			if !ok {
				return nil, false
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		default:
			return nil, false
		}
	}
	return t, true
}

// schemaChildren lists the keys valid directly under parent.
func schemaChildren(parent toml.Key) []string {
	t, ok := schemaType(parent)
	if !ok || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); tagName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// closest returns the candidate nearest to s (case-insensitive edit
// distance 1, or 2 for names of six letters or more), or "".
func closest(s string, candidates []string) string {
	limit := 1
	if len(s) >= 6 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
