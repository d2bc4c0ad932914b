package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// dialSmall connects to addr from local (an IP on loopback, "" for any)
// with a small receive buffer, so that a client that reads slowly or not at
// all makes the server's writes block instead of filling megabytes of
// kernel buffers.
func dialSmall(t testing.TB, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
		})
	}}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c within d (reading and
// discarding whatever it sends).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return !isTimeout(err)
}

// Finding 5: a request body sent one byte at a time was never cut off.
func TestHTTPSlowBodyIsCut(t *testing.T) {
	n := mustNewNode(t, Config{HTTPMinRate: 16 << 10, HTTPRateGrace: 300 * time.Millisecond})
	for _, path := range []string{"/api/v1/playback-tokens", "/api/v1/courses", "/healthz"} {
		c := dialSmall(t, "", n.Addr().String())
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", path)
		closed := make(chan struct{})
		go func() {
			closedWithin(c, 15*time.Second)
			close(closed)
		}()
		tick := time.NewTicker(20 * time.Millisecond)
		stop := time.After(10 * time.Second)
	trickle:
		for {
			select {
			case <-closed:
				break trickle
			case <-stop:
				t.Fatalf("POST %s: a body trickled at 50 bytes/s was not cut off in 10 s", path)
			case <-tick.C:
				c.Write([]byte(" "))
			}
		}
		tick.Stop()
	}
	if v := metricValue(t, n, `classmesh_http_conns_cut_total{reason="slow_body"}`); v < 3 {
		t.Errorf("slow_body cuts counted: %v, want 3", v)
	}
	if r := get(t, n.URL()+"/healthz"); r.code != 200 {
		t.Errorf("healthz after the cuts: %d", r.code)
	}
}

// Finding 5: a client that stops reading held its connection forever.
func TestHTTPNonReadingClientIsCut(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t), HTTPMinRate: 16 << 10, HTTPRateGrace: 300 * time.Millisecond})
	a, _ := n.Library().Asset("demo")
	rend := a.Renditions[0]
	path := "/v/demo/" + rend.ID + "/seg-1.m4s"
	size := rend.Segments[1].Size
	if r := get(t, n.URL()+path); r.code != 200 { // fill the cache
		t.Fatalf("segment: %d", r.code)
	}
	const pipelined = 64
	c := dialSmall(t, "", n.Addr().String())
	c.Write(bytes.Repeat([]byte("GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"), pipelined))
	cut := func() bool {
		return metricValue(t, n, `classmesh_http_conns_cut_total{reason="slow_reader"}`) >= 1
	}
	for end := time.Now().Add(15 * time.Second); !cut(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("a client that reads nothing was not cut off in 15 s")
		}
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.Copy(io.Discard, c)
	if isTimeout(err) || got >= pipelined*size {
		t.Errorf("after the cut: read %d bytes (%d responses of %d) and %v, want a closed connection", got, pipelined, size, err)
	}
}

// thinLinkServer serves a 2 MiB body from memory (/mem) and from a file
// (/file, sendfile through ReadFrom), and a response that waits longer than
// the grace before its first byte (/block, like a blocking playlist
// request), behind the node's limits.
func thinLinkServer(t testing.TB, minRate int64, grace time.Duration) (string, *connLimits) {
	t.Helper()
	l := newConnLimits(limitsConfig{MinRate: minRate, Grace: grace}, prometheus.NewRegistry(), testLogger(t))
	body := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	file := filepath.Join(t.TempDir(), "seg.m4s")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.(io.ReaderFrom).ReadFrom(f)
	})
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * grace)
		w.Write([]byte("#EXTM3U\n"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: l.limitRequests(mux)}
	go srv.Serve(limitListener{Listener: ln, l: l})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String(), l
}

// A learner on a thin but moving link is never cut off. The figures are
// scaled by 8 to keep the test short: the default minimum rate is 64 kbit/s
// against a 1 Mbit/s learner (16 times more) with 10 s of grace; here the
// minimum is 64 KiB/s against a reader at 1 MiB/s with 300 ms of grace.
func TestHTTPThinLinkIsNotCut(t *testing.T) {
	addr, l := thinLinkServer(t, 64<<10, 300*time.Millisecond)
	for _, path := range []string{"/mem", "/file", "/block", "/mem"} {
		c := dialSmall(t, "", addr)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		br := bufio.NewReaderSize(c, 16<<10)
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		// Read 16 KiB every 15.6 ms: 1 MiB/s.
		var got int64
		buf := make([]byte, 16<<10)
		for i := 0; i < 1000; i++ {
			k, err := io.ReadFull(resp.Body, buf)
			got += int64(k)
			if err != nil {
				break
			}
			time.Sleep(time.Second / 64)
		}
		resp.Body.Close()
		if got != resp.ContentLength && !(resp.ContentLength < 0 && got > 0) {
			t.Errorf("GET %s at 1 MiB/s: %d of %d bytes", path, got, resp.ContentLength)
		}
	}
	if v := counterValue(l.cut.WithLabelValues(cutSlowReader)); v != 0 {
		t.Errorf("%v thin-link readers cut", v)
	}
}

// A reader that stops is cut off, also when the body goes out through
// sendfile. Eight requests are pipelined: the kernel's socket buffers on
// loopback can take a whole 2 MiB body, after which the connection is idle
// (and closed by the idle timeout), not blocked.
func TestHTTPStalledReaderIsCut(t *testing.T) {
	addr, l := thinLinkServer(t, 64<<10, 300*time.Millisecond)
	for i, path := range []string{"/mem", "/file"} {
		c := dialSmall(t, "", addr)
		c.Write(bytes.Repeat([]byte("GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"), 8))
		c.Read(make([]byte, 4<<10)) // the head, then nothing
		for end := time.Now().Add(10 * time.Second); counterValue(l.cut.WithLabelValues(cutSlowReader)) < float64(i+1); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("GET %s: a reader that stopped was not cut off in 10 s", path)
			}
		}
	}
}

// One address cannot take every connection: the next one from it is
// closed at accept, another address still gets in.
func TestHTTPPerAddressCap(t *testing.T) {
	n := mustNewNode(t, Config{HTTPMaxConnsPerAddr: 4})
	var held []net.Conn
	for range 4 {
		c := dialSmall(t, "127.0.0.2", n.Addr().String())
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d from 127.0.0.2: %v", len(held), err)
		}
		held = append(held, c)
	}
	extra := dialSmall(t, "127.0.0.2", n.Addr().String())
	fmt.Fprintf(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedWithin(extra, 3*time.Second) {
		t.Error("a fifth connection from 127.0.0.2 was served")
	}
	if r := get(t, n.URL()+"/healthz"); r.code != 200 {
		t.Errorf("127.0.0.1 while 127.0.0.2 is at its cap: %d", r.code)
	}
	if v := metricValue(t, n, `classmesh_http_conns_cut_total{reason="per_addr"}`); v != 1 {
		t.Errorf("per_addr cuts: %v", v)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// An HTTP/2 client that keeps reading the connection but not a stream's
// body (no WINDOW_UPDATE for it) stalls only that stream; the stream's
// handler is cut off by the same rule.
func TestHTTP2StalledStreamIsCut(t *testing.T) {
	l := newConnLimits(limitsConfig{MinRate: 64 << 10, Grace: 300 * time.Millisecond}, prometheus.NewRegistry(), testLogger(t))
	body := make([]byte, 16<<20) // more than the client's stream window (4 MiB)
	srv := httptest.NewUnstartedServer(l.limitRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			// Like a segment still filling: write, wait longer than the
			// grace, write again.
			w.Write(body[:1<<10])
			http.NewResponseController(w).Flush()
			time.Sleep(time.Second)
		}
		w.Write(body)
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	waited, err := srv.Client().Get(srv.URL + "/wait")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, waited.Body); err != nil || n != int64(len(body))+1<<10 {
		t.Fatalf("a stream that waited in its handler: %d bytes, %v", n, err)
	}
	waited.Body.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("protocol %s", resp.Proto)
	}
	for end := time.Now().Add(10 * time.Second); counterValue(l.cut.WithLabelValues(cutSlowReader)) < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("a stalled HTTP/2 stream was not cut off in 10 s")
		}
	}
}

// Request bodies over HTTP/2: a handler that pauses between reads is not
// cut (only time blocked in Read counts), a body that stalls is.
func TestHTTP2Bodies(t *testing.T) {
	l := newConnLimits(limitsConfig{MinRate: 64 << 10, Grace: 300 * time.Millisecond}, prometheus.NewRegistry(), testLogger(t))
	srv := httptest.NewUnstartedServer(l.limitRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1<<10)
		n, err := io.ReadFull(r.Body, buf)
		time.Sleep(time.Second) // work between reads
		rest, err2 := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d %v %v", int64(n)+rest, err, err2)
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "application/octet-stream", bytes.NewReader(make([]byte, 64<<10)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "65536 <nil> <nil>" {
		t.Errorf("a handler pausing between reads got %q", got)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { // 2 KiB, then nothing
		pw.Write(bytes.Repeat([]byte{'x'}, 2<<10))
	}()
	resp, err = srv.Client().Post(srv.URL, "application/octet-stream", pr)
	if err == nil {
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !strings.Contains(string(got), "timeout") || counterValue(l.cut.WithLabelValues(cutSlowBody)) != 1 {
		t.Errorf("a stalled HTTP/2 body: %q, %v; cuts %v", got, err, counterValue(l.cut.WithLabelValues(cutSlowBody)))
	}
}

// BenchmarkLimitedConn measures what the rate rule costs a fast reader on
// loopback: 2 MiB from memory and through sendfile, with the default rule
// and without it.
func BenchmarkLimitedConn(b *testing.B) {
	for _, rate := range []int64{DefaultHTTPMinRate, -1} {
		for _, path := range []string{"/mem", "/file"} {
			b.Run(fmt.Sprintf("min-rate=%d%s", rate, path), func(b *testing.B) {
				addr, _ := thinLinkServer(b, rate, DefaultHTTPRateGrace)
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				b.SetBytes(2 << 20)
				for b.Loop() {
					resp, err := client.Get("http://" + addr + path)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
	}
}

// When the node is full, the address holding the most connections gives up
// its oldest one to a newcomer from a lighter address; a newcomer from the
// heavy address itself is refused.
func TestHTTPNodeCapEvictsHeaviestAddress(t *testing.T) {
	n := mustNewNode(t, Config{HTTPMaxConns: 8, HTTPMaxConnsPerAddr: 8})
	held := make([]net.Conn, 0, 8)
	for range 8 {
		c := dialSmall(t, "127.0.0.2", n.Addr().String())
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d from 127.0.0.2: %v", len(held), err)
		}
		held = append(held, c)
	}
	if r := get(t, n.URL()+"/healthz"); r.code != 200 {
		t.Fatalf("127.0.0.1 while 127.0.0.2 holds every connection: %d", r.code)
	}
	if !closedWithin(held[0], 3*time.Second) {
		t.Error("the oldest connection of 127.0.0.2 is still open")
	}
	extra := dialSmall(t, "127.0.0.2", n.Addr().String())
	fmt.Fprintf(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedWithin(extra, 3*time.Second) {
		t.Error("a ninth connection from 127.0.0.2 was served while the node was full")
	}
	for _, m := range []string{`classmesh_http_conns_cut_total{reason="evicted"}`, `classmesh_http_conns_cut_total{reason="max_conns"}`} {
		if v := metricValue(t, n, m); v != 1 {
			t.Errorf("%s = %v, want 1", m, v)
		}
	}
}
