package loadtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

// Registrar creates one account. ErrExists (wrapped) means the account
// was already there, which a re-run of register counts but accepts.
type Registrar interface {
	Register(ctx context.Context, user, password string) error
}

// ErrExists is returned by a Registrar for an account that exists.
var ErrExists = errors.New("account exists")

// RegistrarFunc adapts a function to Registrar.
type RegistrarFunc func(ctx context.Context, user, password string) error

// Register implements Registrar.
func (f RegistrarFunc) Register(ctx context.Context, user, password string) error {
	return f(ctx, user, password)
}

// IBR registers accounts with XEP-0077 in-band registration: one stream
// per account, STARTTLS if the target asks for it, then an iq set of
// jabber:iq:register with username and password before authenticating
// (XEP-0077 §3.1). It works with any server that allows registration.
type IBR struct{ Target *Target }

// Register implements Registrar.
func (r IBR) Register(ctx context.Context, user, password string) error {
	c, err := r.Target.dial(ctx)
	if err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	defer c.Close()
	if err := c.register(user, password); err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	return nil
}

func (c *Conn) register(user, password string) error {
	esc := func(s string) string { return string(stanza.AppendEscapedText(nil, s)) }
	req := "<iq type='set' id='reg'><query xmlns='" + nsRegister + "'><username>" + esc(user) +
		"</username><password>" + esc(password) + "</password></query></iq>"
	if err := c.write([]byte(req)); err != nil {
		return err
	}
	_, err := c.iqResponse("reg")
	if err != nil && strings.Contains(err.Error(), "conflict") {
		return fmt.Errorf("%w: %v", ErrExists, err)
	}
	return err
}

// Register creates o.N accounts with reg at o.Concurrency and reports the
// rate, latency and the server's CPU per registration. Accounts that
// already exist are counted as "existed", not as failures.
func Register(ctx context.Context, o Options, reg Registrar) (Result, error) {
	r := Result{Scenario: "register", Time: time.Now()}
	if err := o.check("n"); err != nil {
		return r, err
	}
	o.quiet()
	r.param("n", o.N)
	r.param("concurrency", o.concurrency())
	var h Histogram
	var errs firstError
	var existed, created countAtomic
	prog := o.Progress.start("register", "done", "existed")
	cpu0, t0 := o.Server.CPU(), time.Now()
	forEach(ctx, o.N, o.concurrency(), func(i int) {
		s := time.Now()
		err := reg.Register(ctx, o.user(i), o.password())
		switch {
		case errors.Is(err, ErrExists):
			existed.add()
			prog.b.Add(1)
		case err != nil:
			errs.add(err)
		default:
			h.Record(time.Since(s))
			created.add()
		}
		prog.a.Add(1)
	})
	wall := time.Since(t0)
	o.Server.Settle(50*time.Millisecond, 2*time.Second)
	cpu := o.Server.CPU() - cpu0
	prog.stop()
	r.add("created", float64(created.get()), "")
	r.add("existed", float64(existed.get()), "")
	r.add("failed", float64(errs.n.Load()), "")
	r.add("rate", perSecond(float64(created.get()), wall), "/s")
	r.addDur("p50", h.Quantile(0.5))
	r.addDur("p99", h.Quantile(0.99))
	if n := created.get(); n > 0 {
		r.add("server_cpu_per_registration", micros(cpu)/float64(n), "us")
	}
	return r, errs.err()
}
