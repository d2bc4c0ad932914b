package rtmp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// dialHandshaken connects from local (an IP on loopback) and completes the
// handshake, then sends nothing: a trickler between two of its bytes.
func dialHandshaken(t testing.TB, local string, addr net.Addr) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", addr.String())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := clientHandshake(nc); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}

// Finding 5: a connection that finished the handshake and trickled a byte
// now and then, each within IdleTimeout, was never closed.
func TestServerPublishDeadline(t *testing.T) {
	p := newRecPublisher("k")
	s, logs := testServer(t, Config{IdleTimeout: 300 * time.Millisecond, PublishTimeout: time.Second}, p)
	nc, err := dialHandshaken(t, "127.0.0.1", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	// A connect command, sent one byte every 100 ms.
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	(&testClient{cw: newChunkWriter(bw)}).command(0, "connect", 1.0, amfObj{{"app", "live"}, {"type", "nonprivate"},
		{"tcUrl", "rtmp://127.0.0.1/live/" + string(bytes.Repeat([]byte("x"), 200))}})
	closed := make(chan struct{})
	go func() {
		nc.SetReadDeadline(time.Now().Add(15 * time.Second))
		io.Copy(io.Discard, nc)
		close(closed)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	stop := time.After(10 * time.Second)
	for _, b := range buf.Bytes() {
		select {
		case <-closed:
			logs.waitLog(t, "reason=publish_timeout", "no publish within 1s")
			return
		case <-stop:
			t.Fatal("a connection trickling its connect command was not closed in 10 s")
		case <-tick.C:
			nc.Write([]byte{b})
		}
	}
	t.Fatal("the whole connect command went through a byte at a time")
}

// Finding 5: 1024 connections that finished the handshake and trickled
// locked every instructor out of ingest. Here the server takes 32
// connections; 64 tricklers from one address, then 64 from eight, are held
// while an instructor connects and publishes.
func TestServerInstructorConnectsWhileTricklersHeld(t *testing.T) {
	for _, addrs := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d trickling addresses", addrs), func(t *testing.T) {
			p := newRecPublisher("k")
			s, logs := testServer(t, Config{MaxConnections: 32, HandshakeTimeout: time.Minute, PublishTimeout: time.Minute}, p)
			held := 0
			for i := range 64 {
				if _, err := dialHandshaken(t, fmt.Sprintf("127.0.0.%d", 2+i%addrs), s.Addr()); err == nil {
					held++
				}
			}
			c := dialClient(t, s.Addr())
			c.mustPublish("k")
			if addrs == 1 {
				logs.waitLog(t, "reason=per_addr")
			} else {
				logs.waitLog(t, "reason=evicted")
			}
			t.Logf("%d of 64 tricklers completed the handshake (the server holds at most 32); the instructor published", held)
		})
	}
}

// A publishing connection does not count against its address: a fleet of
// encoders behind one NAT publishes as many streams as it has keys.
func TestServerPendingCapIgnoresPublishers(t *testing.T) {
	keys := []string{"a", "b", "c", "d"}
	p := newRecPublisher(keys...)
	s, _ := testServer(t, Config{MaxPendingPerAddr: 2}, p)
	for _, k := range keys {
		dialClient(t, s.Addr()).mustPublish(k)
	}
	if _, err := dialHandshaken(t, "127.0.0.1", s.Addr()); err != nil {
		t.Fatalf("a pending connection after four publishers: %v", err)
	}
}
