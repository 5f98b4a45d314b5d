package loadtest

import (
	"context"
	"time"

	"github.com/parleyim/parley/internal/stanza"
)

const initialPresence = "<presence/>"

func ignore(*session, *stanza.Element) {}

// Login logs in o.N users at o.Concurrency: TCP connect, STARTTLS if the
// target asks for it, SASL, bind, initial presence. It reports logins per
// second, the latency of each login (connect to bind result), and the
// server's CPU per login (measured until the server is quiet again, so the
// initial presence is included). The sessions are closed afterwards,
// outside the measurement.
func Login(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "login", Time: time.Now()}
	if err := o.check("n"); err != nil {
		return r, err
	}
	o.quiet()
	r.param("n", o.N)
	r.param("concurrency", o.concurrency())
	r.param("mechanism", o.Target.mechanism())
	r.transport(o.Target)
	var h Histogram
	var errs firstError
	prog := o.Progress.start("login", "logged in", "")
	cpu0, t0 := o.Server.CPU(), time.Now()
	ss := loginMany(ctx, &o, seq(o.N), "", &h, prog, &errs,
		func(s *session) error { return s.conn.Send([]byte(initialPresence)) }, ignore)
	wall := time.Since(t0)
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	cpu := o.Server.CPU() - cpu0
	prog.stop()
	n := alive(ss)
	closeAll(ss)
	r.add("logins", float64(n), "")
	r.add("failed", float64(errs.n.Load()), "")
	r.add("rate", perSecond(float64(n), wall), "/s")
	r.addDur("p50", h.Quantile(0.5))
	r.addDur("p99", h.Quantile(0.99))
	r.addDur("max", h.Max())
	if n > 0 {
		r.add("server_cpu_per_login", micros(cpu)/float64(n), "us")
	}
	return r, errs.err()
}
