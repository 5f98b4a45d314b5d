package loadtest

import (
	"context"
	"fmt"
	"sync"
	"time"
)

const nsSM = "urn:xmpp:sm:3"

// Resume measures a resume storm (XEP-0198): o.N sessions log in and
// enable stream management with resumption, all lose their connections at
// once (closed without closing the stream: a simulated network drop), and
// then all resume at o.Concurrency over new connections (TCP, STARTTLS if
// the target asks, SASL, <resume/>). It reports resumes per second, the
// latency of each resume (connect to <resumed/>) and the server's CPU per
// resume. The resumed sessions are closed afterwards, outside the
// measurement.
func Resume(ctx context.Context, o Options) (Result, error) {
	r := Result{Scenario: "resume", Time: time.Now()}
	if err := o.check("n"); err != nil {
		return r, err
	}
	o.quiet()
	r.param("n", o.N)
	r.param("concurrency", o.concurrency())
	r.param("mechanism", o.Target.mechanism())
	r.transport(o.Target)
	var errs firstError
	ids := make([]string, o.N)
	prog := o.Progress.start("resume", "enabled", "")
	o.each(func(i int) {
		id, err := enableResume(ctx, &o, i)
		if err != nil {
			errs.add(err)
			return
		}
		ids[i] = id
		prog.a.Add(1)
	})
	prog.stop()
	o.quiet() // the server has noticed the drops and hibernated the sessions

	var h Histogram
	conns := make([]*Conn, o.N)
	prog = o.Progress.start("resume", "resumed", "")
	cpu0, t0 := o.Server.CPU(), time.Now()
	o.each(func(i int) {
		if ids[i] == "" {
			return
		}
		start := time.Now()
		c, err := resumeOne(ctx, &o, i, ids[i])
		if err != nil {
			errs.add(err)
			return
		}
		h.Record(time.Since(start))
		conns[i] = c
		prog.a.Add(1)
	})
	wall := time.Since(t0)
	o.Server.Settle(50*time.Millisecond, 3*time.Second)
	cpu := o.Server.CPU() - cpu0
	prog.stop()
	n := 0
	for _, c := range conns {
		if c != nil {
			n++
			c.Close()
		}
	}
	r.add("resumes", float64(n), "")
	r.add("failed", float64(errs.n.Load()), "")
	r.add("rate", perSecond(float64(n), wall), "/s")
	r.addDur("p50", h.Quantile(0.5))
	r.addDur("p99", h.Quantile(0.99))
	r.addDur("max", h.Max())
	if n > 0 {
		r.add("server_cpu_per_resume", micros(cpu)/float64(n), "us")
	}
	return r, errs.err()
}

// each runs f for every user at o.Concurrency.
func (o *Options) each(f func(i int)) {
	sem := make(chan struct{}, o.concurrency())
	var wg sync.WaitGroup
	for i := range o.N {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

// enableResume logs user i in, enables stream management with resumption
// and drops the connection; it returns the resumption id.
func enableResume(ctx context.Context, o *Options, i int) (string, error) {
	c, err := o.Target.Login(ctx, o.user(i), o.password(), "resume")
	if err != nil {
		return "", err
	}
	defer c.Abort()
	c.nc.SetDeadline(time.Now().Add(o.Target.timeout()))
	if err := c.Send([]byte("<enable xmlns='" + nsSM + "' resume='true'/>")); err != nil {
		return "", err
	}
	el, err := c.expect(nsSM, "enabled")
	if err != nil {
		return "", fmt.Errorf("enable %s: %w", o.user(i), err)
	}
	if el.Attr("id") == "" {
		return "", fmt.Errorf("enable %s: no resumption id", o.user(i))
	}
	return el.Attr("id"), nil
}

// resumeOne connects user i anew and resumes its session id (it has
// received nothing since enabling: h is 0).
func resumeOne(ctx context.Context, o *Options, i int, id string) (*Conn, error) {
	c, err := o.Target.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", o.user(i), err)
	}
	err = c.authenticate(o.user(i), o.password())
	if err == nil {
		c.dec.Restart()
		err = c.open()
	}
	if err == nil {
		err = c.Send([]byte("<resume xmlns='" + nsSM + "' previd='" + id + "' h='0'/>"))
	}
	if err == nil {
		_, err = c.expect(nsSM, "resumed")
	}
	if err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("resume %s: %w", o.user(i), err)
	}
	c.nc.SetDeadline(time.Time{})
	return c, nil
}
