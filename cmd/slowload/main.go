// Command slowload holds slow and malformed client connections against a
// classmesh node for scripts/slowclients.sh (issue 11, finding 5):
//
//   - -slow-body N HTTP connections that send a POST's headers and then its
//     body one byte a second;
//   - -no-read N HTTP connections that pipeline segment requests and never
//     read the answers;
//   - -rtmp N RTMP connections that complete the handshake and then trickle
//     a byte every 15 s.
//
// A connection the node closes (or refuses) is opened again after a short
// pause, so the load stays at N for -duration. Each kind uses its own
// loopback source address (-src-*), so the learner measured by the script,
// on 127.0.0.1, is a different address. Every second it prints one line
// with the connections currently held and the closes seen so far; at the
// end one JSON object. Everything is bounded by -duration.
//
//	go run ./cmd/slowload -http 127.0.0.1:8080 -rtmp-addr 127.0.0.1:1935 \
//	    -slow-body 1100 -no-read 1100 -rtmp 1024 -get /v/demo/720p/seg-0.m4s -duration 60s
//
// With -probe-rtmp it instead connects once from 127.0.0.1 as an instructor
// would (handshake, connect) and prints how long the answer took.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type counts struct {
	held, opened, closed, failed atomic.Int64
}

func (c *counts) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]int64{"held": c.held.Load(), "opened": c.opened.Load(), "closed_by_node": c.closed.Load(), "dial_failed": c.failed.Load()})
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8080", "node HTTP address")
	rtmpAddr := flag.String("rtmp-addr", "127.0.0.1:1935", "node RTMP address")
	nBody := flag.Int("slow-body", 0, "connections trickling a request body")
	nNoRead := flag.Int("no-read", 0, "connections that never read")
	nRTMP := flag.Int("rtmp", 0, "RTMP connections trickling after the handshake")
	get := flag.String("get", "/v/demo/720p/seg-0.m4s", "path the non-reading connections request")
	post := flag.String("post", "/api/v1/playback-tokens", "path the slow bodies are posted to")
	srcBody := flag.String("src-body", "127.0.0.2", "source address of the slow bodies (or a range, 127.0.0.10-127.0.0.17)")
	srcNoRead := flag.String("src-no-read", "127.0.0.3", "source address of the non-readers (or a range)")
	srcRTMP := flag.String("src-rtmp", "127.0.0.4", "source address of the RTMP tricklers (or a range)")
	duration := flag.Duration("duration", 60*time.Second, "how long to hold the load")
	probe := flag.Bool("probe-rtmp", false, "connect once as an instructor and print the time to the connect answer")
	thin := flag.Int("thin", 0, "fetch -get once from 127.0.0.1, reading at this many bytes/s with a 16 KiB receive buffer, and print the time")
	flag.Parse()

	if *thin > 0 {
		start := time.Now()
		n, code, err := thinFetch(*httpAddr, *get, *thin)
		fmt.Printf("%s %.3fs %dB err=%v\n", code, time.Since(start).Seconds(), n, err)
		if err != nil {
			os.Exit(1)
		}
		return
	}

	if *probe {
		start := time.Now()
		err := rtmpConnect(*rtmpAddr)
		fmt.Printf("rtmp_probe_seconds=%.3f err=%v\n", time.Since(start).Seconds(), err)
		if err != nil {
			os.Exit(1)
		}
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var body, noRead, rtmp counts
	var wg sync.WaitGroup
	run := func(n int, c *counts, src, addr string, hold func(context.Context, net.Conn) error) {
		srcs := sources(src)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: srcs[i%len(srcs)]}}
					nc, err := d.DialContext(ctx, "tcp", addr)
					if err != nil {
						c.failed.Add(1)
						sleep(ctx, time.Second)
						continue
					}
					c.opened.Add(1)
					c.held.Add(1)
					stop := context.AfterFunc(ctx, func() { nc.Close() })
					err = hold(ctx, nc)
					stop()
					nc.Close()
					c.held.Add(-1)
					if ctx.Err() == nil {
						c.closed.Add(1)
						sleep(ctx, 200*time.Millisecond)
					}
					_ = err
				}
			}()
		}
	}
	run(*nBody, &body, *srcBody, *httpAddr, func(ctx context.Context, nc net.Conn) error {
		fmt.Fprintf(nc, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n", *post)
		return trickle(ctx, nc, time.Second)
	})
	run(*nNoRead, &noRead, *srcNoRead, *httpAddr, func(ctx context.Context, nc net.Conn) error {
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetReadBuffer(4 << 10)
		}
		fmt.Fprint(nc, strings.Repeat("GET "+*get+" HTTP/1.1\r\nHost: x\r\n\r\n", 16))
		return waitClosed(ctx, nc)
	})
	run(*nRTMP, &rtmp, *srcRTMP, *rtmpAddr, func(ctx context.Context, nc net.Conn) error {
		if err := rtmpHandshake(nc); err != nil {
			return err
		}
		return trickle(ctx, nc, 15*time.Second)
	})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			fmt.Printf("t=%3.0fs held: slow_body=%d no_read=%d rtmp=%d; closed by node: %d %d %d\n", time.Since(start).Seconds(),
				body.held.Load(), noRead.held.Load(), rtmp.held.Load(), body.closed.Load(), noRead.closed.Load(), rtmp.closed.Load())
		}
	}
	wg.Wait()
	out, _ := json.Marshal(map[string]any{"slow_body": &body, "no_read": &noRead, "rtmp": &rtmp})
	fmt.Println(string(out))
}

// sources parses "127.0.0.2" or a range of the last octet, "127.0.0.2-127.0.0.9".
func sources(s string) []net.IP {
	from, to, ok := strings.Cut(s, "-")
	a, b := net.ParseIP(from).To4(), net.ParseIP(to).To4()
	if !ok || a == nil || b == nil || b[3] < a[3] {
		return []net.IP{net.ParseIP(from)}
	}
	var out []net.IP
	for o := int(a[3]); o <= int(b[3]); o++ {
		out = append(out, net.IPv4(a[0], a[1], a[2], byte(o)))
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// trickle writes one byte every d until the node closes nc (a write fails
// or a read ends) or ctx ends.
func trickle(ctx context.Context, nc net.Conn, d time.Duration) error {
	closed := make(chan error, 1)
	go func() { closed <- waitClosed(ctx, nc) }()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-closed:
			return err
		case <-t.C:
			if _, err := nc.Write([]byte{' '}); err != nil {
				return err
			}
		}
	}
}

// waitClosed returns when the node closes nc. It takes one byte every
// 10 s at most, which for a response of megabytes is not reading at all.
func waitClosed(ctx context.Context, nc net.Conn) error {
	var one [1]byte
	for ctx.Err() == nil {
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := nc.Read(one[:])
		if err == nil {
			time.Sleep(10 * time.Second) // a byte every 10 s: not reading, in effect
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			continue
		}
		return err
	}
	return ctx.Err()
}

// thinFetch GETs path reading at rate bytes/s, as a learner on a thin
// link: a small receive buffer so the node's writes wait on this reader,
// 4 KiB reads paced to the rate. Bounded by 120 s.
func thinFetch(addr, path string, rate int) (int64, string, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, "000", err
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(16 << 10)
	nc.SetDeadline(time.Now().Add(120 * time.Second))
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	start := time.Now()
	var total int64
	buf := make([]byte, 4<<10)
	code := "000"
	for {
		k, err := nc.Read(buf)
		if total == 0 && k >= 12 {
			code = string(buf[9:12])
		}
		total += int64(k)
		if err == io.EOF {
			return total, code, nil
		}
		if err != nil {
			return total, code, err
		}
		// Pace: total bytes may not run ahead of rate.
		if ahead := time.Duration(float64(total)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
}

// rtmpHandshake is the client side of the simple RTMP handshake.
func rtmpHandshake(nc net.Conn) error {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer nc.SetDeadline(time.Time{})
	c0c1 := make([]byte, 1+1536)
	c0c1[0] = 3
	if _, err := nc.Write(c0c1); err != nil {
		return err
	}
	s := make([]byte, 1+2*1536)
	if _, err := io.ReadFull(nc, s); err != nil {
		return err
	}
	_, err := nc.Write(s[1 : 1+1536])
	return err
}

// rtmpConnect handshakes and sends connect(app "live"), then waits for the
// node's first message after it.
func rtmpConnect(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := rtmpHandshake(nc); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	var p []byte
	str := func(s string) []byte {
		b := []byte{0x02, 0, 0}
		binary.BigEndian.PutUint16(b[1:], uint16(len(s)))
		return append(b, s...)
	}
	p = append(p, str("connect")...)
	p = append(p, 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0) // number 1
	p = append(p, 0x03, 0, 3)                         // object, key "app"
	p = append(p, "app"...)
	p = append(p, str("live")...)
	p = append(p, 0, 0, 0x09) // object end
	h := []byte{0x03, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0}
	h[4], h[5], h[6] = byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(append(h, p...)); err != nil {
		return err
	}
	if _, err := io.ReadFull(nc, make([]byte, 16)); err != nil {
		return fmt.Errorf("connect answer: %w", err)
	}
	return nil
}
