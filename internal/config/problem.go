package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration. Load and Validate return
// a *Problem, or several joined with errors.Join; Problems splits them again.
type Problem struct {
	// File is the configuration file the key was read from; "" when the
	// value is a default or was set in code or by a flag.
	File string
	// Line is the 1-based line of the key in File; 0 when unknown.
	Line int
	// Key is the dotted TOML key, e.g. "c2s.ping_timeout" or
	// `tls.certs."example.org".cert`; "" for a syntax error before any key.
	Key string
	// Msg says what is wrong and, where there is one, how to fix it.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

// Error formats the problem compiler-style: "file:line: key: message".
func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (p *Problem) Unwrap() error { return p.Err }

// Problems returns the problems in err, in order: err itself if it is a
// *Problem, the problems among the errors joined in it otherwise. Errors
// that are not problems (an unreadable file) are returned as a Problem with
// only Msg set, so that nothing is lost.
func Problems(err error) []*Problem {
	if err == nil {
		return nil
	}
	if p, ok := err.(*Problem); ok {
		return []*Problem{p}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Problem
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	var p *Problem
	if errors.As(err, &p) {
		return []*Problem{p}
	}
	return []*Problem{{Msg: err.Error(), Err: err}}
}

// joinProblems returns nil, the single problem, or all of them joined.
func joinProblems(ps []*Problem) error {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}
