package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/hashicorp/raft"
)

// openStore opens a single-node Store on a loopback raft TCP transport.
func openStore(t *testing.T) *control.Store {
	t.Helper()
	trans, err := raft.NewTCPTransport("127.0.0.1:0", nil, 3, 2*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := control.DefaultConfig()
	cfg.NodeID = "n1"
	cfg.DataDir = filepath.Join(t.TempDir(), "n1")
	cfg.Transport = trans
	cfg.Bootstrap = true
	cfg.HeartbeatTimeout = 200 * time.Millisecond
	cfg.ElectionTimeout = 200 * time.Millisecond
	cfg.LeaderLeaseTimeout = 100 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.RaftLogLevel = 100
	s, err := control.Open(cfg)
	if err != nil {
		_ = trans.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		_ = trans.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !s.IsLeader() {
		if ctx.Err() != nil {
			t.Fatal("no leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// fakeLinearizer counts calls and fails with err when set.
type fakeLinearizer struct {
	calls int
	err   error
}

func (f *fakeLinearizer) Linearize(context.Context) error {
	f.calls++
	return f.err
}

// env is a handler on a real store with an admin token.
type env struct {
	t     *testing.T
	store *control.Store
	lin   *fakeLinearizer
	h     http.Handler
	admin string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := openStore(t)
	e := &env{t: t, store: s, lin: &fakeLinearizer{}}
	e.h = NewHandler(Config{Reader: s, Writer: s, Linearizer: e.lin, Auth: TokenAuth{Reader: s}})
	res, err := s.Create(context.Background(), control.KindToken, "root", &control.APIToken{Role: control.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	e.admin = res.Secret
	return e
}

// resp is a recorded response.
type resp struct {
	code int
	hdr  http.Header
	body []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v: %s", r.code, err, r.body)
	}
	return m
}

// do sends a request; body is marshalled unless it is a string or []byte.
func (e *env) do(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

// must sends a request and fails unless the status is want.
func (e *env) must(want int, method, path, token string, body any, hdr ...string) map[string]any {
	e.t.Helper()
	r := e.do(method, path, token, body, hdr...)
	if r.code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.code, want, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// seed creates a public and a private course, each with a module and a
// lesson, and an asset.
func (e *env) seed() {
	e.t.Helper()
	e.must(201, "POST", "/api/v1/assets", e.admin, obj{"id": "a1", "title": "A1", "source": "v/a1.mp4", "status": "ready", "duration": 10})
	for _, c := range []struct{ id, vis string }{{"pub", "public"}, {"priv", "private"}} {
		e.must(201, "POST", "/api/v1/courses", e.admin, obj{"id": c.id, "title": c.id, "visibility": c.vis})
		e.must(201, "POST", "/api/v1/modules", e.admin, obj{"id": c.id + "-m", "course_id": c.id, "title": "M"})
		e.must(201, "POST", "/api/v1/lessons", e.admin, obj{"id": c.id + "-l", "module_id": c.id + "-m", "title": "L", "asset_id": "a1"})
	}
}

func rev(t *testing.T, m map[string]any) string {
	t.Helper()
	f, ok := m["revision"].(float64)
	if !ok || f == 0 {
		t.Fatalf("no revision in %v", m)
	}
	return `"` + json.Number(formatUint(uint64(f))).String() + `"`
}

func formatUint(u uint64) string { b, _ := json.Marshal(u); return string(b) }

// Stubs for handler tests that need no store.
type nopReader struct{}

func (nopReader) Get(control.Kind, string) (json.RawMessage, error) { return nil, control.ErrNotFound }
func (nopReader) List(control.Kind, func(json.RawMessage) bool) ([]json.RawMessage, error) {
	return nil, nil
}
func (nopReader) History(control.Kind, string) ([]json.RawMessage, error) { return nil, nil }
func (nopReader) AssetOwner(string) (string, error)                       { return "", control.ErrNotFound }

type nopWriter struct{}

func (nopWriter) Apply(context.Context, control.Command) (*control.Result, error) {
	return nil, errors.New("nop writer")
}

type anonAuth struct{}

func (anonAuth) Authenticate(*http.Request) (Principal, error) {
	return Principal{Anonymous: true}, nil
}
