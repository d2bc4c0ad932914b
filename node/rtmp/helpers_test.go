package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor is the bound on every wait in these tests.
const waitFor = 20 * time.Second

// needTool skips (or fails under CI) when an external tool is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// logBuffer collects log output from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitLog waits until the log holds every one of subs.
func (l *logBuffer) waitLog(t testing.TB, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		s := l.String()
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(s, sub)
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("log never contained %q; log:\n%s", subs, l.String())
}

// recStream records everything a Stream receives.
type recStream struct {
	req     PublishRequest
	failOn  string // method name that returns an error
	release func() // called by Close
	mu      sync.Mutex
	avcC    [][]byte
	asc     [][]byte
	video   []recVideo
	audio   []recAudio
	closes  []error
	closed  chan struct{}
}

type recVideo struct {
	dts  int64
	cts  int32
	key  bool
	data []byte
}

type recAudio struct {
	pts  int64
	data []byte
}

var errTestStream = errors.New("test stream refuses")

func (s *recStream) check(method string) error {
	if s.failOn == method {
		return errTestStream
	}
	return nil
}

func (s *recStream) VideoConfig(avcC []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.avcC = append(s.avcC, avcC)
	return s.check("VideoConfig")
}

func (s *recStream) AudioConfig(asc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asc = append(s.asc, asc)
	return s.check("AudioConfig")
}

func (s *recStream) Video(dts int64, cts int32, key bool, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.video = append(s.video, recVideo{dts, cts, key, data})
	return s.check("Video")
}

func (s *recStream) Audio(pts int64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audio = append(s.audio, recAudio{pts, data})
	return s.check("Audio")
}

func (s *recStream) Close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closes = append(s.closes, err)
	if len(s.closes) == 1 {
		s.release()
		close(s.closed)
	}
}

// waitClosed waits for Close and returns its error.
func (s *recStream) waitClosed(t testing.TB) error {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(waitFor):
		t.Fatalf("stream %q never closed", s.req.Key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closes[0]
}

// recPublisher accepts keys it knows, once at a time.
type recPublisher struct {
	mu      sync.Mutex
	keys    map[string]string // key -> failOn for its streams
	active  map[string]bool
	streams []*recStream
	refused []error
}

func newRecPublisher(keys ...string) *recPublisher {
	p := &recPublisher{keys: map[string]string{}, active: map[string]bool{}}
	for _, k := range keys {
		p.keys[k] = ""
	}
	return p
}

func (p *recPublisher) Publish(ctx context.Context, req PublishRequest) (Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	failOn, ok := p.keys[req.Key]
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("key %q: %w", req.Key, ErrUnknownKey)
	case p.active[req.Key]:
		err = fmt.Errorf("key %q: %w", req.Key, ErrAlreadyPublishing)
	}
	if err != nil {
		p.refused = append(p.refused, err)
		return nil, err
	}
	p.active[req.Key] = true
	s := &recStream{req: req, failOn: failOn, closed: make(chan struct{})}
	s.release = func() { // the key is free again once the stream closes
		p.mu.Lock()
		p.active[req.Key] = false
		p.mu.Unlock()
	}
	p.streams = append(p.streams, s)
	return s, nil
}

// waitStream waits for the n-th accepted publish (0-based).
func (p *recPublisher) waitStream(t testing.TB, n int) *recStream {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		if len(p.streams) > n {
			s := p.streams[n]
			p.mu.Unlock()
			return s
		}
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("publish %d never arrived", n)
	return nil
}

func (p *recPublisher) refusals() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.refused...)
}

// testServer starts a server on 127.0.0.1:0 with cfg's limits.
func testServer(t testing.TB, cfg Config, p Publisher) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = logs.logger()
	s, err := NewServer(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}
