package rtmp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// publishGood publishes a short valid stream with the Go client and
// checks that it arrived; it proves the server still works.
func publishGood(t *testing.T, s *Server, p *recPublisher, n int, key string) {
	t.Helper()
	c := dialClient(t, s.Addr())
	id := c.mustPublish(key)
	frame := nalus(4, []byte{0x65, 0x88, 0x84}, []byte{0x06, 5})
	err := errors.Join(
		c.video(id, 0, avcTag(true, 0, 0, testAVCC)),
		c.audio(id, 0, aacTag(0, testASC)),
		c.video(id, 0, avcTag(true, 1, 0, frame)),
		c.audio(id, 23, aacTag(1, []byte{0x21, 0x10})),
		c.video(id, 40, avcTag(false, 1, 40, frame)),
		c.command(0, "FCUnpublish", 5.0, nil, key),
		c.command(0, "deleteStream", 6.0, nil, float64(id)),
	)
	if err != nil {
		t.Fatal(err)
	}
	c.nc.Close()
	st := p.waitStream(t, n)
	if err := st.waitClosed(t); err != nil {
		t.Fatalf("Close(%v), want nil", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.avcC) != 1 || len(st.asc) != 1 || len(st.video) != 2 || len(st.audio) != 1 || len(st.closes) != 1 {
		t.Fatalf("got %d avcC, %d asc, %d video, %d audio, %d closes", len(st.avcC), len(st.asc),
			len(st.video), len(st.audio), len(st.closes))
	}
	if v := st.video[1]; v.dts != 40 || v.cts != 40 || v.key || !bytes.Equal(v.data, frame) {
		t.Fatalf("second frame %+v", v)
	}
	if !bytes.Equal(st.asc[0], testASC) || !bytes.Equal(st.avcC[0], testAVCC) {
		t.Fatal("configs differ")
	}
}

func TestServerPublishGoClient(t *testing.T) {
	p := newRecPublisher("k1")
	s, logs := testServer(t, Config{}, p)
	publishGood(t, s, p, 0, "k1")
	logs.waitLog(t, "rtmp: publishing", "rtmp: publish ended", "reason=clean")
}

func TestServerBadInput(t *testing.T) {
	big := make([]byte, 9<<20)
	type step func(c *testClient) error
	raw := func(b []byte) step { return func(c *testClient) error { _, err := c.nc.Write(b); return err } }
	publish := func(c *testClient) error { c.mustPublish("good"); return nil }
	connect := func(c *testClient) error { return c.connect("live") }
	cases := []struct {
		name      string
		handshake bool
		steps     []step
		wantLog   string
	}{
		{"http request", false, []step{raw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))}, "handshake version 0x47"},
		{"rtmpe", false, []step{raw([]byte{6})}, "encrypted RTMP"},
		{"garbage after handshake", true, []step{raw(bytes.Repeat([]byte{0xff}, 64))}, "starts with a type 3 header"},
		{"oversized message", true, []step{connect, raw(chunk0(4, 0, 9<<20, 9, 1)), raw(big[:4096])},
			"exceeds MaxMessageSize"},
		{"chunk size above the limit", true, []step{raw(cat(chunk0(2, 0, 4, 1, 0), []byte{0, 0x10, 0, 0}))},
			"exceeds MaxChunkSize"},
		{"invalid chunk size", true, []step{raw(cat(chunk0(2, 0, 4, 1, 0), []byte{0x80, 0, 0, 0}))},
			"invalid chunk size"},
		{"too many chunk streams", true, []step{func(c *testClient) error {
			for i := range 70 {
				if err := c.send(message{csid: uint32(10 + i), typ: typeAck, payload: []byte{0, 0, 0, 0}}); err != nil {
					return err
				}
			}
			return nil
		}}, "more than 64 chunk streams"},
		{"publish before connect", true, []step{func(c *testClient) error {
			return c.command(1, "publish", 0.0, nil, "good", "live")
		}}, "publish before connect"},
		{"wrong app", true, []step{func(c *testClient) error { c.connect("vod"); return nil }},
			`connect to unknown application \"vod\"`},
		{"media before publish", true, []step{connect, func(c *testClient) error {
			return c.video(1, 0, avcTag(true, 0, 0, testAVCC))
		}}, "video before publish"},
		{"unsupported video codec", true, []step{publish, func(c *testClient) error {
			return c.video(1, 0, []byte{0x1c, 0, 0, 0, 0, 1, 2, 3})
		}}, "unsupported video codec 12"},
		{"unsupported audio codec", true, []step{publish, func(c *testClient) error {
			return c.audio(1, 0, []byte{0x2f, 0xff, 0xfb})
		}}, "unsupported audio codec 2"},
		{"frame before sequence header", true, []step{publish, func(c *testClient) error {
			return c.video(1, 0, avcTag(true, 1, 0, nalus(4, []byte{0x65})))
		}}, "video frame before the AVC sequence header"},
		{"broken sequence header", true, []step{publish, func(c *testClient) error {
			return c.video(1, 0, avcTag(true, 0, 0, []byte{1, 2, 3}))
		}}, "AVC sequence header: 3 bytes"},
		{"broken command", true, []step{raw(cat(chunk0(3, 0, 3, typeCommandAMF0, 0), []byte{amfString, 0, 9}))},
			"amf0 at byte 3: truncated"},
		{"play", true, []step{connect, func(c *testClient) error {
			return c.command(1, "play", 0.0, nil, "good")
		}}, "command play: this server only ingests"},
	}
	p := newRecPublisher("good")
	s, logs := testServer(t, Config{MaxChunkSize: 65536}, p)
	accepted := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c *testClient
			if tc.handshake {
				c = dialClient(t, s.Addr())
			} else {
				nc, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				c = &testClient{t: t, nc: nc}
			}
			for _, st := range tc.steps {
				if err := st(c); err != nil {
					t.Logf("step: %v", err) // the server may close first
				}
			}
			if err := c.waitClosed(); err != nil {
				t.Fatalf("connection not closed: %v", err)
			}
			logs.waitLog(t, tc.wantLog)
			p.mu.Lock()
			n := len(p.streams)
			p.mu.Unlock()
			if n > accepted { // the case published: its stream must be closed with an error
				if err := p.streams[n-1].waitClosed(t); err == nil {
					t.Fatal("stream closed with nil after a protocol error")
				}
				accepted = n
			}
			publishGood(t, s, p, accepted, "good")
			accepted++
		})
	}
}

func TestServerRefusesPublish(t *testing.T) {
	p := newRecPublisher("live1")
	s, logs := testServer(t, Config{}, p)
	c := dialClient(t, s.Addr())
	if _, code, err := c.publish("nope?token=1"); err != nil || code != codePublishBadName {
		t.Fatalf("unknown key: %s, %v", code, err)
	}
	if err := c.waitClosed(); err != nil {
		t.Fatal(err)
	}
	first := dialClient(t, s.Addr())
	first.mustPublish("live1?x=y")
	second := dialClient(t, s.Addr())
	if _, code, err := second.publish("live1"); err != nil || code != codePublishDenied {
		t.Fatalf("second publisher: %s, %v", code, err)
	}
	if err := second.waitClosed(); err != nil {
		t.Fatal(err)
	}
	refused := p.refusals()
	if len(refused) != 2 || !errors.Is(refused[0], ErrUnknownKey) || !errors.Is(refused[1], ErrAlreadyPublishing) {
		t.Fatalf("refusals %v", refused)
	}
	logs.waitLog(t, "reason=refused", "unknown stream key", "already publishing")
	if st := p.waitStream(t, 0); st.req.Key != "live1" || st.req.App != "live" || st.req.Remote == nil {
		t.Fatalf("request %+v", st.req)
	}
}

func TestServerStreamErrorClosesConnection(t *testing.T) {
	p := newRecPublisher()
	p.keys["k"] = "VideoConfig"
	s, logs := testServer(t, Config{}, p)
	c := dialClient(t, s.Addr())
	id := c.mustPublish("k")
	c.video(id, 0, avcTag(true, 0, 0, testAVCC))
	if err := c.waitClosed(); err != nil {
		t.Fatal(err)
	}
	if err := p.waitStream(t, 0).waitClosed(t); !errors.Is(err, errTestStream) {
		t.Fatalf("Close(%v)", err)
	}
	logs.waitLog(t, "reason=stream_error", "test stream refuses")
}

func TestServerTimeouts(t *testing.T) {
	p := newRecPublisher("k")
	s, logs := testServer(t, Config{HandshakeTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}, p)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte{3, 0, 0})
	(&testClient{nc: nc}).waitClosed()
	logs.waitLog(t, "reason=handshake", "i/o timeout")
	c := dialClient(t, s.Addr())
	c.mustPublish("k")
	if err := c.waitClosed(); err != nil {
		t.Fatal(err)
	}
	if err := p.waitStream(t, 0).waitClosed(t); err == nil {
		t.Fatal("idle publisher closed with nil")
	}
	logs.waitLog(t, "reason=timeout")
}

func TestServerCloseEndsPublishers(t *testing.T) {
	p := newRecPublisher("k")
	s, _ := testServer(t, Config{}, p)
	c := dialClient(t, s.Addr())
	c.mustPublish("k")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.waitStream(t, 0).waitClosed(t); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Close(%v), want ErrServerClosed", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Fatal("still accepting")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{{ChunkSize: 64}, {MaxMessageSize: 1 << 25}, {App: "a/b"}, {IdleTimeout: -1},
		{MaxChunkSize: 10}, {MaxConnections: -1}} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := NewServer(Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatal("nil publisher accepted")
	}
	if strings.Contains(redactKey("secretkey123"), "key123") {
		t.Fatal("key not redacted")
	}
}

func TestServerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := newRecPublisher("k")
	s, _ := testServer(t, Config{Registerer: reg}, p)
	publishGood(t, s, p, 0, "k")
	c := dialClient(t, s.Addr())
	c.command(1, "publish", 0.0, nil, "k", "live")
	c.waitClosed()
	deadline := time.Now().Add(waitFor)
	for metricValue(s.m.connections) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	checks := []struct {
		name string
		c    prometheus.Metric
		want float64
	}{
		{"connections", s.m.connections, 0},
		{"publishing", s.m.publishing, 0},
		{"closed clean", s.m.closed.WithLabelValues(reasonClean), 1},
		{"closed protocol", s.m.closed.WithLabelValues(reasonProtocol), 1},
		{"video", s.m.media.WithLabelValues(kindVideo), 2},
		{"audio", s.m.media.WithLabelValues(kindAudio), 1},
		{"video config", s.m.media.WithLabelValues(kindVideoConfig), 1},
	}
	for _, ck := range checks {
		if got := metricValue(ck.c); got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, got, ck.want)
		}
	}
	if got := metricValue(s.m.bytes); got < 2*(1+2*handshakeSize) {
		t.Errorf("received bytes %v", got)
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) < 5 {
		t.Errorf("gathered %d families, %v", len(mfs), err)
	}
	if _, err := NewServer(Config{Registerer: reg}, p); err == nil {
		t.Error("registered the metrics twice")
	}
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		return -1
	}
	if pb.Counter != nil {
		return pb.Counter.GetValue()
	}
	return pb.Gauge.GetValue()
}

// TestServerAggregateAndAMF3 publishes through an AMF3-form command and
// sends media inside an aggregate message.
func TestServerAggregateAndAMF3(t *testing.T) {
	p := newRecPublisher("k")
	s, _ := testServer(t, Config{}, p)
	c := dialClient(t, s.Addr())
	if err := c.connect("live"); err != nil {
		t.Fatal(err)
	}
	body, _ := amf0Append([]byte{0}, "createStream", 2.0, nil)
	c.send(message{csid: 3, typ: typeCommandAMF3, payload: body})
	vals, err := c.readCommand()
	if err != nil || arg(vals, 3) != 1.0 {
		t.Fatalf("createStream: %v, %v", vals, err)
	}
	c.command(1, "publish", 0.0, nil, "k", "live")
	if vals, err := c.readCommand(); err != nil || infoCode(vals) != codePublishStart {
		t.Fatalf("publish: %v, %v", vals, err)
	}
	frame := nalus(4, []byte{0x65, 1})
	var agg []byte
	for _, sub := range []struct {
		typ  byte
		ts   uint32
		body []byte
	}{{typeVideo, 1000, avcTag(true, 0, 0, testAVCC)}, {typeVideo, 1000, avcTag(true, 1, 0, frame)},
		{typeVideo, 1040, avcTag(false, 1, 0, frame)}} {
		h := []byte{sub.typ, 0, 0, 0, 0, 0, 0, byte(sub.ts >> 24), 0, 0, 0}
		putU24(h[1:], uint32(len(sub.body)))
		putU24(h[4:], sub.ts)
		agg = append(append(agg, h...), sub.body...)
		agg = append(agg, 0, 0, 0, byte(11+len(sub.body)))
	}
	c.send(message{csid: 6, typ: typeAggregate, streamID: 1, timestamp: 500, payload: agg})
	c.command(0, "deleteStream", 3.0, nil, 1.0)
	st := p.waitStream(t, 0)
	if err := st.waitClosed(t); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.video) != 2 || st.video[0].dts != 500 || st.video[1].dts != 540 {
		t.Fatalf("video %+v", st.video)
	}
}
