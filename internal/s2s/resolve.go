package s2s

import (
	"context"
	"errors"
	"net"
	"strconv"
)

// target is one address to try for a remote domain.
type target struct {
	addr      string // host:port
	directTLS bool   // TLS from the first byte (XEP-0368)
}

// Resolver looks up SRV records; *net.Resolver is one. Tests give their
// own.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// errNoService is a domain whose SRV record says it offers no XMPP
// server service (a single record with target ".", RFC 6120 §3.2.1).
var errNoService = errors.New("the domain's SRV record says it has no XMPP server service")

// resolve lists where to connect for domain, in order (RFC 6120 §3.2,
// XEP-0368 §3): the static route if one is configured; else the
// _xmpps-server._tcp (direct TLS) and _xmpp-server._tcp (STARTTLS)
// records, by priority, direct TLS first on a tie; else the domain itself
// on port 5269.
func resolve(ctx context.Context, r Resolver, routes map[string]string, domain string) ([]target, error) {
	if a, ok := routes[domain]; ok {
		return []target{{addr: a}}, nil
	}
	tls, errTLS := lookup(ctx, r, "xmpps-server", domain, true)
	plain, errPlain := lookup(ctx, r, "xmpp-server", domain, false)
	if errors.Is(errTLS, errNoService) && errors.Is(errPlain, errNoService) {
		return nil, errNoService
	}
	all := mergeByPriority(tls, plain)
	if len(all) == 0 {
		return []target{{addr: net.JoinHostPort(domain, "5269")}}, nil
	}
	return all, nil
}

type srvTarget struct {
	target
	prio uint16
}

func lookup(ctx context.Context, r Resolver, service, domain string, direct bool) ([]srvTarget, error) {
	_, srvs, err := r.LookupSRV(ctx, service, "tcp", domain)
	if err != nil {
		return nil, err
	}
	if len(srvs) == 1 && (srvs[0].Target == "." || srvs[0].Target == "") {
		return nil, errNoService
	}
	out := make([]srvTarget, 0, len(srvs))
	for _, s := range srvs { // already sorted by priority and randomised by weight
		host := s.Target
		if n := len(host); n > 0 && host[n-1] == '.' {
			host = host[:n-1]
		}
		out = append(out, srvTarget{target{net.JoinHostPort(host, strconv.Itoa(int(s.Port))), direct}, s.Priority})
	}
	return out, nil
}

// mergeByPriority merges two priority-ordered lists, a first on a tie.
func mergeByPriority(a, b []srvTarget) []target {
	out := make([]target, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && a[0].prio <= b[0].prio {
			out, a = append(out, a[0].target), a[1:]
		} else {
			out, b = append(out, b[0].target), b[1:]
		}
	}
	return out
}
