// Command relayfloor measures what a message costs a Go server that does
// nothing with it, at a steady rate: the floor under Parley's chat figures
// (docs/benchmarks.md, "Steady rates: where the floor is"). The server
// relays, per pair of loopback connections, each 200-byte message read
// from one (sockio, as c2s reads) to the other; the client sends at -rate
// in total from -pairs senders, counts what arrives and prints the
// server's CPU time per message from /proc.
//
//	taskset -c 0 relayfloor -mode server &
//	taskset -c 1 relayfloor -pid $! -rate 1000
//
// No XML, no routing, no queue: one goroutine per connection blocked in
// the runtime poller, like Parley's c2s reader.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyim/parley/internal/sockio"
)

func main() {
	mode := flag.String("mode", "client", "server or client")
	addr := flag.String("addr", "127.0.0.1:49622", "")
	pairs := flag.Int("pairs", 100, "")
	rate := flag.Float64("rate", 1000, "")
	dur := flag.Duration("d", 10*time.Second, "")
	pid := flag.Int("pid", 0, "server pid")
	flag.Parse()
	if *mode == "server" {
		serve(*addr)
		return
	}
	if *pid <= 0 {
		fmt.Fprintln(os.Stderr, "relayfloor: -pid (the server's) is needed")
		os.Exit(2)
	}
	var recv []net.Conn
	var send []net.Conn
	for i := 0; i < *pairs; i++ {
		a, err := net.Dial("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "relayfloor:", err)
			os.Exit(1)
		}
		b, err := net.Dial("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "relayfloor:", err)
			os.Exit(1)
		}
		send = append(send, a)
		recv = append(recv, b)
	}
	time.Sleep(500 * time.Millisecond)
	got := make(chan int, 1024)
	for _, c := range recv {
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				got <- n
			}
		}()
	}
	msg := []byte(strings.Repeat("x", 200))
	cpu0 := cpuOf(*pid)
	end := time.Now().Add(*dur)
	interval := time.Duration(float64(*pairs) / *rate * float64(time.Second))
	for i, c := range send {
		go func() {
			at := time.Now().Add(time.Duration(float64(interval) * float64(i%97) / 97))
			for at.Before(end) {
				time.Sleep(time.Until(at))
				c.Write(msg)
				at = at.Add(interval)
			}
		}()
	}
	total := 0
	want := int(*rate * dur.Seconds() * 200)
	deadline := time.After(*dur + 3*time.Second)
loop:
	for total < want {
		select {
		case n := <-got:
			total += n
		case <-deadline:
			break loop
		}
	}
	time.Sleep(100 * time.Millisecond)
	msgs := total / 200
	fmt.Printf("messages %d, server CPU per message %.1f us\n", msgs, float64((cpuOf(*pid)-cpu0).Microseconds())/float64(msgs))
}

// serve relays between each two connections accepted in turn.
func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relayfloor:", err)
		os.Exit(1)
	}
	for {
		a, err := ln.Accept()
		if err != nil {
			return
		}
		b, err := ln.Accept()
		if err != nil {
			return
		}
		go relay(sockio.Wrap(a), sockio.Wrap(b))
	}
}

// relay copies what a sends to b, one read and one write at a time.
func relay(a, b net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := a.Read(buf)
		if err != nil {
			return // io.EOF: the client is done
		}
		if _, err := b.Write(buf[:n]); err != nil {
			return
		}
	}
}

// cpuOf is pid's CPU time (user and system) from /proc, in clock ticks
// of 10 ms.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		fmt.Fprintln(os.Stderr, "relayfloor:", err)
		os.Exit(1)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return time.Duration(u+s) * 10 * time.Millisecond
}
