package fill

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/classmesh/classmesh/cluster"
)

func ftServe(t *testing.T, p *ftPair, cfg FillConfig, h FillHandlerFunc) *FillServer {
	t.Helper()
	s, err := NewFillServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Register(p.owner)
	t.Cleanup(func() { s.Close() })
	return s
}

func ftClient(t *testing.T, p *ftPair, cfg FillConfig) *FillClient {
	t.Helper()
	c, err := NewFillClient(p.requester, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randomBody(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// The body reaches the requester while the handler is still producing it:
// the handler only writes its second half after the requester's writer has
// seen bytes of the first.
func TestFillStreamsWhileProducing(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	body := randomBody(t, 5<<20)
	sum := sha256.Sum256(body)
	w := newSignalWriter(1)
	reg := prometheus.NewRegistry()
	cfg := DefaultFillConfig()
	cfg.Registerer = reg
	var gotReq FillRequest
	ftServe(t, p, cfg, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		gotReq = req
		if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: int64(len(body)), SHA256: sum[:]}); err != nil {
			return err
		}
		half := len(body) / 2
		if _, err := rw.Write(body[:half]); err != nil {
			return err
		}
		if err := waitOrCtx(ctx, w.first); err != nil {
			return err
		}
		for off := half; off < len(body); off += 256 << 10 {
			if _, err := rw.Write(body[off:min(off+256<<10, len(body))]); err != nil {
				return err
			}
		}
		return nil
	})
	c := ftClient(t, p, cfg)
	req := sampleFillRequest()
	req.Hop = 0
	res, err := c.Fetch(ctx, p.ownerMember, req, w)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != int64(len(body)) || res.Status != FillOK || !bytes.Equal(res.SHA256, sum[:]) {
		t.Fatalf("result %+v", res)
	}
	if !bytes.Equal(w.Bytes(), body) {
		t.Fatal("body differs")
	}
	if gotReq.Hop != 1 || gotReq.Object != req.Object || gotReq.Epoch != req.Epoch {
		t.Fatalf("handler saw %+v", gotReq)
	}
	if v := ftCounter(t, c.m.requests.WithLabelValues("client", "ok")); v != 1 {
		t.Fatalf("client ok requests = %v", v)
	}
	if v := ftCounter(t, c.m.bytes.WithLabelValues("client")); v != float64(len(body)) {
		t.Fatalf("client bytes = %v", v)
	}
}

func TestFillUnknownSizeAndCorrupt(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	body := []byte("segment bytes")
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		switch req.Object {
		case "unknown-size":
			_, err := rw.Write(body) // implicit {OK, -1} header
			return err
		case "bad-sum":
			bad := sha256.Sum256([]byte("other"))
			if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: int64(len(body)), SHA256: bad[:]}); err != nil {
				return err
			}
			_, err := rw.Write(body)
			return err
		case "short":
			if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: 100}); err != nil {
				return err
			}
			_, err := rw.Write(body)
			return err
		}
		return nil // no header: FillError
	})
	c := ftClient(t, p, FillConfig{})
	for _, tc := range []struct {
		object  string
		wantErr error
	}{
		{"unknown-size", nil},
		{"bad-sum", ErrFillCorrupt},
		{"short", ErrPeerUnavailable}, // server resets: never a complete-looking body
		{"nothing", ErrPeerRefused},
	} {
		t.Run(tc.object, func(t *testing.T) {
			req := sampleFillRequest()
			req.Object = tc.object
			var buf bytes.Buffer
			res, err := c.Fetch(ctx, p.ownerMember, req, &buf)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (!bytes.Equal(buf.Bytes(), body) || res.Size != -1) {
				t.Fatalf("body %q res %+v", buf.Bytes(), res)
			}
		})
	}
}

func TestFillHandlerErrorAfterHeader(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	w := newSignalWriter(1000)
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: 1 << 20}); err != nil {
			return err
		}
		if _, err := rw.Write(make([]byte, 64<<10)); err != nil {
			return err
		}
		if err := waitOrCtx(ctx, w.first); err != nil {
			return err
		}
		return errors.New("origin went away")
	})
	res, err := ftClient(t, p, FillConfig{}).Fetch(ctx, p.ownerMember, sampleFillRequest(), w)
	if !errors.Is(err, ErrPeerUnavailable) {
		t.Fatalf("err = %v, want ErrPeerUnavailable", err)
	}
	if res.Bytes == 0 || res.Bytes >= 1<<20 {
		t.Fatalf("Bytes = %d, want partial", res.Bytes)
	}
}

func TestFillHandlerErrorBeforeHeader(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		switch req.Object {
		case "missing":
			return &FillStatusError{Status: FillNotFound, Message: "no such segment"}
		case "wrapped-missing":
			return fmt.Errorf("lookup: %w", &FillStatusError{Status: FillNotFound, Message: "not found in library"})
		case "wrong":
			return rw.WriteHeader(FillHeader{Status: FillWrongOwner, Message: "epoch differs"})
		}
		return errors.New("disk on fire")
	})
	c := ftClient(t, p, FillConfig{})
	for _, tc := range []struct {
		object, msg string
		status      FillStatus
	}{
		{"missing", "no such segment", FillNotFound},
		{"wrapped-missing", "not found", FillNotFound},
		{"wrong", "epoch differs", FillWrongOwner},
		{"other", "disk on fire", FillError},
	} {
		t.Run(tc.object, func(t *testing.T) {
			req := sampleFillRequest()
			req.Object = tc.object
			var buf bytes.Buffer
			res, err := c.Fetch(ctx, p.ownerMember, req, &buf)
			if !errors.Is(err, ErrPeerRefused) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v", err)
			}
			if res.Status != tc.status || res.Bytes != 0 || buf.Len() != 0 || !strings.Contains(res.Message, tc.msg) {
				t.Fatalf("res = %+v", res)
			}
		})
	}
}

func TestFillOwnerKilledMidTransfer(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	w := newSignalWriter(1)
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: 4 << 20}); err != nil {
			return err
		}
		if _, err := rw.Write(make([]byte, 32<<10)); err != nil {
			return err
		}
		<-ctx.Done() // until the transport dies
		return ctx.Err()
	})
	go func() {
		if waitOrCtx(ctx, w.first) == nil {
			p.owner.Close()
		}
	}()
	cfg := FillConfig{IdleTimeout: 3 * time.Second}
	res, err := ftClient(t, p, cfg).Fetch(ctx, p.ownerMember, sampleFillRequest(), w)
	if !errors.Is(err, ErrPeerUnavailable) {
		t.Fatalf("err = %v, want ErrPeerUnavailable", err)
	}
	if res.Bytes == 0 {
		t.Fatal("no bytes before the kill")
	}
	// A dead owner: the next fetch fails to dial or times out.
	res, err = ftClient(t, p, FillConfig{FirstByteTimeout: 300 * time.Millisecond}).
		Fetch(ctx, p.ownerMember, sampleFillRequest(), io.Discard)
	if !errors.Is(err, ErrPeerUnavailable) || res.Bytes != 0 {
		t.Fatalf("fetch from dead owner: %+v, %v", res, err)
	}
}

func TestFillFirstByteTimeout(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	released := make(chan struct{})
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		defer close(released)
		<-ctx.Done() // the requester's give-up cancels the handler
		return ctx.Err()
	})
	c := ftClient(t, p, FillConfig{FirstByteTimeout: 200 * time.Millisecond})
	res, err := c.Fetch(ctx, p.ownerMember, sampleFillRequest(), io.Discard)
	if !errors.Is(err, ErrPeerUnavailable) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v", err)
	}
	if res.Bytes != 0 || res.Status != 0 {
		t.Fatalf("res = %+v", res)
	}
	if err := waitOrCtx(ctx, released); err != nil {
		t.Fatal("handler context not canceled after the requester gave up")
	}
}

func TestFillCallerCancel(t *testing.T) {
	p := ftNewPair(t)
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := ftClient(t, p, FillConfig{}).Fetch(ctx, p.ownerMember, sampleFillRequest(), io.Discard)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrPeerUnavailable) {
		t.Fatalf("err = %v, want context.Canceled only", err)
	}
}

// Garbage on a raw stream gets an error frame; the connection then serves
// the next stream normally.
func TestFillMalformedRequestKeepsConnection(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	ftServe(t, p, FillConfig{}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: 2}); err != nil {
			return err
		}
		_, err := rw.Write([]byte("ok"))
		return err
	})
	for _, garbage := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		{'C', 'M', 'F', 1, 0xff, 0xff},
		{'C', 'M', 'F', 1, 0, 3, 1, 2, 3},
	} {
		st, err := p.requester.OpenStream(ctx, p.ownerMember.QUICAddr, FillALPN)
		if err != nil {
			t.Fatal(err)
		}
		st.Write(garbage)
		st.Close()
		st.SetReadDeadline(time.Now().Add(10 * time.Second))
		h, err := DecodeFillResponse(st)
		if err != nil {
			t.Fatalf("%q: %v", garbage, err)
		}
		if h.Status != FillUnprocessable || h.Message == "" {
			t.Fatalf("%q: header %+v", garbage, h)
		}
		if rest, err := io.ReadAll(st); err != nil || len(rest) != 0 {
			t.Fatalf("%q: after error frame: %q, %v", garbage, rest, err)
		}
	}
	var buf bytes.Buffer
	if _, err := ftClient(t, p, FillConfig{}).Fetch(ctx, p.ownerMember, sampleFillRequest(), &buf); err != nil || buf.String() != "ok" {
		t.Fatalf("fetch after garbage: %q, %v", buf.String(), err)
	}
}

func TestFillBusy(t *testing.T) {
	ctx := testCtx(t)
	p := ftNewPair(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	ftServe(t, p, FillConfig{MaxConcurrent: 1}, func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		close(entered)
		<-release
		_, err := rw.Write([]byte("x"))
		return err
	})
	c := ftClient(t, p, FillConfig{FirstByteTimeout: 10 * time.Second})
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, p.ownerMember, sampleFillRequest(), io.Discard)
		done <- err
	}()
	if err := waitOrCtx(ctx, entered); err != nil {
		t.Fatal(err)
	}
	res, err := c.Fetch(ctx, p.ownerMember, sampleFillRequest(), io.Discard)
	if !errors.Is(err, ErrPeerRefused) || res.Status != FillBusy {
		t.Fatalf("second fetch: %+v, %v", res, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFillNoAddress(t *testing.T) {
	c, err := newFillClient(FillConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Fetch(context.Background(), cluster.Member{ID: "x"}, sampleFillRequest(), io.Discard)
	if !errors.Is(err, ErrPeerUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestFillConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  FillConfig
		ok   bool
	}{
		{"default", DefaultFillConfig(), true},
		{"zero", FillConfig{}, true},
		{"negative timeout", FillConfig{IdleTimeout: -1}, false},
		{"negative concurrency", FillConfig{MaxConcurrent: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}

func ftCounter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func BenchmarkFillFetch1MiB(b *testing.B) {
	p := ftNewPair(b)
	body := randomBody(b, 1<<20)
	s, err := NewFillServer(FillConfig{}, FillHandlerFunc(func(ctx context.Context, req FillRequest, rw FillResponseWriter) error {
		if err := rw.WriteHeader(FillHeader{Status: FillOK, Size: int64(len(body))}); err != nil {
			return err
		}
		_, err := rw.Write(body)
		return err
	}))
	if err != nil {
		b.Fatal(err)
	}
	s.Register(p.owner)
	defer s.Close()
	c, err := NewFillClient(p.requester, FillConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Fetch(ctx, p.ownerMember, sampleFillRequest(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
