package remote

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/node/origin"
)

func TestRemoteOriginListOpenRead(t *testing.T) {
	ctx := testCtx(t)
	e := rtNewEnv(t, Config{BlockSize: 64 << 10, CacheBlocks: 2})
	big := randomBody(t, 3<<20+123)
	rtWrite(t, e.dirs[0], "course1/a.mp4", big)
	rtWrite(t, e.dirs[0], "course1/b.mp4", []byte("tiny"))
	rtWrite(t, e.dirs[0], "course1/asset.json", []byte(`{"title":"Course One"}`))
	rtWrite(t, e.dirs[0], "solo.mp4", []byte("solo from a"))
	rtWrite(t, e.dirs[1], "solo.mp4", []byte("solo from b")) // duplicate: a wins
	rtWrite(t, e.dirs[1], "other/x.mp4", []byte("only on b"))

	got, err := e.ro.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	la, _ := e.locals[0].List(ctx)
	lb, _ := e.locals[1].List(ctx)
	want := []origin.AssetSpec{la[0], lb[0], la[1]} // course1, other, solo
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List:\n got %+v\nwant %+v", got, want)
	}
	if got[0].Title != "Course One" {
		t.Fatalf("title %q", got[0].Title)
	}

	obj, err := e.ro.Open(ctx, "course1/a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	local, err := e.locals[0].Open(ctx, "course1/a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	if obj.Size() != int64(len(big)) || obj.Identity() != local.Identity() {
		t.Fatalf("size %d identity %q, want %d %q", obj.Size(), obj.Identity(), len(big), local.Identity())
	}
	for _, tc := range []struct {
		name    string
		off     int64
		n       int
		wantEOF bool
	}{
		{"start", 0, 100, false},
		{"cross block", 64<<10 - 10, 20, false},
		{"many blocks", 100, 300 << 10, false},
		{"tail", int64(len(big)) - 50, 50, false},
		{"past end", int64(len(big)) - 50, 100, true},
		{"at end", int64(len(big)), 10, true},
		{"back to start", 5, 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.n)
			n, err := obj.ReadAt(p, tc.off)
			if tc.wantEOF != (err == io.EOF) || (!tc.wantEOF && err != nil) {
				t.Fatalf("err = %v", err)
			}
			end := min(tc.off+int64(tc.n), int64(len(big)))
			if !bytes.Equal(p[:n], big[tc.off:end]) {
				t.Fatalf("bytes differ at %d+%d (n=%d)", tc.off, tc.n, n)
			}
		})
	}
	all, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil || !bytes.Equal(all, big) {
		t.Fatalf("full read: %d bytes, %v", len(all), err)
	}

	for path, want := range map[string]string{"solo.mp4": "solo from a", "other/x.mp4": "only on b"} {
		o, err := e.ro.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.NewSectionReader(o, 0, o.Size()))
		if err != nil || string(b) != want {
			t.Fatalf("%s: %q, %v", path, b, err)
		}
		o.Close()
	}
}

// Open works before any List, by asking every origin member in turn.
func TestRemoteOriginOpenWithoutList(t *testing.T) {
	ctx := testCtx(t)
	e := rtNewEnv(t, Config{})
	rtWrite(t, e.dirs[1], "other/x.mp4", []byte("only on b"))
	o, err := e.ro.Open(ctx, "other/x.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Size() != 9 {
		t.Fatalf("size %d", o.Size())
	}
}

func TestRemoteOriginErrors(t *testing.T) {
	ctx := testCtx(t)
	e := rtNewEnv(t, Config{})
	rtWrite(t, e.dirs[0], "course1/a.mp4", []byte("x"))
	for _, tc := range []struct {
		path string
		want error
	}{
		{"../etc/passwd", origin.ErrBadPath},
		{"/etc/passwd", origin.ErrBadPath},
		{"course1/../../x", origin.ErrBadPath},
		{"course1/missing.mp4", origin.ErrNotFound},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if _, err := e.ro.Open(ctx, tc.path); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// A peer that skips the client-side check still cannot traverse: the server
// cleans every path, and a bad frame leaves the connection usable.
func TestServerRefusesTraversal(t *testing.T) {
	ctx := testCtx(t)
	e := rtNewEnv(t, Config{})
	rtWrite(t, e.dirs[0], "course1/a.mp4", []byte("x"))
	addr := e.c.peers[0].Addr
	for _, tc := range []struct {
		name  string
		frame []byte
		want  Status
	}{
		{"traversal", mustMarshal(t, Request{Op: OpRead, Path: "../../etc/passwd", Length: 10}), StatusUnprocessable},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), StatusUnprocessable},
		{"offset past end", mustMarshal(t, Request{Op: OpRead, Path: "course1/a.mp4", Offset: 5, Length: 1}), StatusUnprocessable},
		{"good", mustMarshal(t, Request{Op: OpStat, Path: "course1/a.mp4"}), StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := e.c.OpenStream(ctx, addr, ALPN)
			if err != nil {
				t.Fatal(err)
			}
			st.Write(tc.frame)
			st.Close()
			st.SetReadDeadline(time.Now().Add(10 * time.Second))
			h, err := decodeResponse(st)
			if err != nil || h.Status != tc.want {
				t.Fatalf("answer %+v, %v; want %s", h, err, tc.want)
			}
		})
	}
	// Every refusal is counted.
	for _, tc := range []struct {
		op, status string
		want       float64
	}{
		{"read", "unprocessable", 2},
		{"invalid", "unprocessable", 1},
		{"stat", "ok", 1},
	} {
		if got := counterValue(t, e.regs[0], tc.op, tc.status); got != tc.want {
			t.Errorf("requests{op=%s,status=%s} = %v, want %v", tc.op, tc.status, got, tc.want)
		}
	}
}

// counterValue reads classmesh_remote_origin_requests_total{op,status}.
func counterValue(t *testing.T, reg *prometheus.Registry, op, status string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "classmesh_remote_origin_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["op"] == op && labels["status"] == status {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestRemoteOriginIdentityChange(t *testing.T) {
	ctx := testCtx(t)
	e := rtNewEnv(t, Config{BlockSize: 1024, CacheBlocks: 1})
	rtWrite(t, e.dirs[0], "c/a.mp4", randomBody(t, 4096))
	o, err := e.ro.Open(ctx, "c/a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.ReadAt(make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	rtWrite(t, e.dirs[0], "c/a.mp4", randomBody(t, 5000)) // new size: new identity
	_, err = o.ReadAt(make([]byte, 10), 2048)
	if !errors.Is(err, origin.ErrChanged) || !errors.Is(err, origin.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrChanged and ErrUnavailable", err)
	}
}

func TestRemoteOriginUnavailable(t *testing.T) {
	ctx := testCtx(t)
	e := rtNewEnv(t, Config{Timeout: 500 * time.Millisecond})
	rtWrite(t, e.dirs[0], "c/a.mp4", []byte("x"))
	e.trs[0].Close()
	if _, err := e.ro.Open(ctx, "c/a.mp4"); !errors.Is(err, origin.ErrUnavailable) {
		t.Fatalf("open on dead member: %v", err)
	}
	if _, err := e.ro.List(ctx); err != nil { // origin-b still answers
		t.Fatalf("list with one member down: %v", err)
	}
	e.trs[1].Close()
	if _, err := e.ro.List(ctx); !errors.Is(err, origin.ErrUnavailable) {
		t.Fatalf("list with all members down: %v", err)
	}
	empty, _ := New(&testCluster{}, Config{})
	if _, err := empty.List(ctx); !errors.Is(err, origin.ErrUnavailable) {
		t.Fatalf("list without origin members: %v", err)
	}
	if empty.String() == "" {
		t.Fatal("empty String")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig(), true},
		{"zero", Config{}, true},
		{"huge block", Config{BlockSize: MaxRead + 1}, false},
		{"negative timeout", Config{Timeout: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}
