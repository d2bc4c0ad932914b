package control

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/hashicorp/raft"
	"github.com/quic-go/quic-go"
)

var (
	_ StreamOpener = (*transport.Transport)(nil)
	_ StreamLayer  = (*cluster.RaftLayer)(nil)
)

// fwNode is a Store whose raft runs over the QUIC transport, with a
// Forwarder registered on that transport: raft and QUIC addresses are one.
type fwNode struct {
	id    string
	addr  string
	tr    *transport.Transport
	store *Store
	fwd   *Forwarder
}

func newFwNode(t *testing.T, ca *transport.CA, id string, boot bool) *fwNode {
	t.Helper()
	tr, err := transport.New(transport.Config{NodeID: id, CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := tr.Addr().String()
	cfg := testConfig(id, filepath.Join(t.TempDir(), id), nil)
	cfg.StreamLayer = cluster.NewRaftLayer(tr, addr)
	cfg.Bootstrap = boot
	s, err := Open(cfg) // owns the layer from here on
	if err != nil {
		_ = tr.Close()
		t.Fatalf("open %s: %v", id, err)
	}
	n := &fwNode{id: id, addr: addr, tr: tr, store: s, fwd: NewForwarder(s, tr, nil, nil)}
	tr.Handle(ForwardALPN, func(ctx context.Context, p transport.PeerInfo, st *quic.Stream) {
		n.fwd.HandleStream(ctx, p.NodeID, st)
	})
	t.Cleanup(func() {
		_ = n.fwd.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close %s: %v", id, err)
		}
		_ = tr.Close()
	})
	return n
}

// fwCluster3 starts three voters over QUIC; n1 bootstraps.
func fwCluster3(t *testing.T) []*fwNode {
	t.Helper()
	ca, err := transport.DeriveCA("forward-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	n1 := newFwNode(t, ca, "n1", true)
	if err := poll(ctxT(t, 10*time.Second), n1.store.IsLeader); err != nil {
		t.Fatal("n1 never led")
	}
	nodes := []*fwNode{n1}
	stores := []*Store{n1.store}
	for _, id := range []string{"n2", "n3"} {
		n := newFwNode(t, ca, id, false)
		addVoter(t, stores, id, n.addr)
		nodes, stores = append(nodes, n), append(stores, n.store)
	}
	return nodes
}

// fwLeader waits until every node agrees on one leader and returns it with
// the followers.
func fwLeader(t *testing.T, nodes []*fwNode) (*fwNode, []*fwNode) {
	t.Helper()
	var leader *fwNode
	err := poll(ctxT(t, 10*time.Second), func() bool {
		leader = nil
		for _, n := range nodes {
			if n.store.IsLeader() {
				leader = n
			}
		}
		if leader == nil {
			return false
		}
		for _, n := range nodes {
			if id, _ := n.store.Leader(); id != leader.id {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatal("no agreed leader")
	}
	var followers []*fwNode
	for _, n := range nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}
	return leader, followers
}

func createCmd(t *testing.T, k Kind, id string, v any) Command {
	t.Helper()
	return Command{Op: OpCreate, Kind: k, ID: id, Payload: mustJSON(t, v)}
}

func TestForwardCluster(t *testing.T) {
	nodes := fwCluster3(t)
	leader, followers := fwLeader(t, nodes)
	f := followers[0]

	t.Run("apply_from_follower", func(t *testing.T) {
		ctx := ctxT(t, 10*time.Second)
		res, err := f.fwd.Apply(ctx, createCmd(t, KindAsset, "a1", testAsset("a1")))
		if err != nil {
			t.Fatal(err)
		}
		if res.Revision == 0 || res.Index == 0 || !bytes.Contains(res.Record, []byte(`"id":"a1"`)) {
			t.Fatalf("result = %d@%d %s", res.Revision, res.Index, res.Record)
		}
		if err := f.store.WaitApplied(ctx, res.Index); err != nil {
			t.Fatalf("follower: wait for index %d: %v", res.Index, err)
		}
		if a, err := f.store.Asset("a1"); err != nil || a.Revision != res.Revision {
			t.Fatalf("follower after WaitApplied(Index): %+v, %v", a, err)
		}
		if a, err := leader.store.Asset("a1"); err != nil || a.Revision != res.Revision {
			t.Fatalf("leader: %+v, %v", a, err)
		}
		for _, n := range nodes {
			if err := n.fwd.Linearize(ctx); err != nil {
				t.Fatalf("%s: linearize: %v", n.id, err)
			}
			if a, err := n.store.Asset("a1"); err != nil || a.Revision != res.Revision {
				t.Fatalf("%s after linearize: %+v, %v", n.id, a, err)
			}
		}
	})

	t.Run("apply_and_wait_reads_own_write", func(t *testing.T) {
		// Through the API's writer: on return the follower's own replica
		// already has the write, with no wait by the caller.
		ctx := ctxT(t, 10*time.Second)
		var w interface {
			Apply(context.Context, Command) (*Result, error)
		} = ReadYourWrites{F: f.fwd}
		for i := range 5 {
			id := fmt.Sprintf("ryw%d", i)
			res, err := w.Apply(ctx, createCmd(t, KindAsset, id, testAsset(id)))
			if err != nil {
				t.Fatal(err)
			}
			if f.store.AppliedIndex() < res.Index {
				t.Fatalf("%s: applied %d < index %d on return", id, f.store.AppliedIndex(), res.Index)
			}
			if a, err := f.store.Asset(id); err != nil || a.Revision != res.Revision {
				t.Fatalf("%s on the follower right after ApplyAndWait: %+v, %v", id, a, err)
			}
		}
	})

	t.Run("secrets_from_leader", func(t *testing.T) {
		ctx := ctxT(t, 10*time.Second)
		if _, err := f.fwd.Apply(ctx, createCmd(t, KindCourse, "c1", &Course{Title: "C", Visibility: VisibilityEnrolled})); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
		sess, err := f.fwd.Apply(ctx, createCmd(t, KindSession, "s1", &LiveSession{CourseID: "c1", Title: "Live",
			ScheduledStart: start, ScheduledEnd: start.Add(time.Hour), State: SessionScheduled}))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := f.fwd.Apply(ctx, createCmd(t, KindToken, "t1", &APIToken{Role: RoleInstructor, Courses: []string{"c1"}}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sess.Secret, "sk_") || !strings.HasPrefix(tok.Secret, "cmt_") {
			t.Fatalf("secrets = %q, %q", sess.Secret, tok.Secret)
		}
		if err := f.fwd.Linearize(ctx); err != nil {
			t.Fatal(err)
		}
		if s, err := f.store.Session("s1"); err != nil || s.StreamKeyHash != HashSecret(sess.Secret) {
			t.Fatalf("session = %+v, %v", s, err)
		}
		if got, err := f.store.TokenByHash(HashSecret(tok.Secret)); err != nil || got.ID != "t1" {
			t.Fatalf("token = %+v, %v", got, err)
		}
	})

	t.Run("typed_errors", func(t *testing.T) { testForwardTypedErrors(t, leader, f) })
	t.Run("malformed_frames", func(t *testing.T) { testForwardMalformed(t, leader, f) })
	t.Run("stale_target_retry", func(t *testing.T) { testForwardStaleTarget(t, followers) })
	t.Run("leader_change", func(t *testing.T) { testForwardLeaderChange(t, nodes, leader) })
	t.Run("closed_forwarder", func(t *testing.T) {
		l, fs := fwLeader(t, nodes)
		if err := l.fwd.Close(); err != nil {
			t.Fatal(err)
		}
		_, err := fs[0].fwd.Apply(ctxT(t, 10*time.Second), createCmd(t, KindAsset, "never", testAsset("x")))
		if !errors.Is(err, ErrNotLeader) {
			t.Fatalf("apply through a closed leader forwarder: %v", err)
		}
		if _, err := l.store.Asset("never"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("write went through: %v", err)
		}
	})
}

// testForwardTypedErrors checks that each catalog error reaches the
// follower exactly as the leader's Store.Apply returns it.
func testForwardTypedErrors(t *testing.T, leader, f *fwNode) {
	ctx := ctxT(t, 10*time.Second)
	a, err := leader.store.Asset("a1")
	if err != nil {
		t.Fatal(err)
	}
	stale := *a
	stale.Title = "stale"
	tests := []struct {
		name string
		cmd  Command
		code Code
	}{
		{"duplicate", createCmd(t, KindAsset, "a1", testAsset("a1")), CodeConflict},
		{"stale_if_match", Command{Op: OpUpdate, Kind: KindAsset, ID: "a1", IfMatch: a.Revision + 1000, Payload: mustJSON(t, &stale)}, CodeConflict},
		{"bad_field", createCmd(t, KindCourse, "c2", &Course{Title: "C", Visibility: "secret"}), CodeInvalid},
		{"bad_id", createCmd(t, KindAsset, "bad id!", testAsset("x")), CodeInvalid},
		{"ref_missing", createCmd(t, KindModule, "m1", &Module{CourseID: "nope", Title: "M"}), CodeRefMissing},
		{"not_found", Command{Op: OpDelete, Kind: KindAsset, ID: "nope"}, CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, want := leader.store.Apply(ctx, tc.cmd)
			_, got := f.fwd.Apply(ctx, tc.cmd)
			var we, ge *Error
			if !errors.As(want, &we) || !errors.As(got, &ge) {
				t.Fatalf("errors: leader %v, forwarded %v", want, got)
			}
			if we.Code != tc.code || !reflect.DeepEqual(we, ge) {
				t.Fatalf("forwarded %+v, leader %+v, want code %s", ge, we, tc.code)
			}
		})
	}
	_, err = f.fwd.Apply(ctx, tests[1].cmd)
	var ce *Error
	if !errors.As(err, &ce) || ce.Revision != a.Revision {
		t.Fatalf("if-match conflict %v does not carry the current revision %d", err, a.Revision)
	}
}

// rawForward sends raw bytes on a ForwardALPN stream to addr and decodes
// the response.
func rawForward(t *testing.T, from *fwNode, addr string, raw []byte) error {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	s, err := from.tr.OpenStream(ctx, addr, ForwardALPN)
	if err != nil {
		t.Fatal(err)
	}
	defer s.CancelRead(0)
	body, err := exchange(s, raw)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	_, err = decodeForwardResponse(body)
	return err
}

func testForwardMalformed(t *testing.T, leader, f *fwNode) {
	withLen := func(body []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	tests := []struct {
		name string
		raw  []byte
		code Code // "" = protocol error expected
	}{
		{"bad_version", withLen([]byte{9, 2, 0, 0, 0, 0}), ""},
		{"unknown_op", withLen([]byte{1, 7, 0, 0, 0, 0}), ""},
		{"short_header", withLen([]byte{1, 2}), ""},
		{"read_index_with_data", withLen([]byte{1, 2, 0, 0, 0, 0, 'x'}), ""},
		{"apply_without_command", withLen([]byte{1, 1, 0, 0, 0, 0}), ""},
		{"zero_length", []byte{0, 0, 0, 0}, ""},
		{"oversized_length", []byte{0x7f, 0xff, 0xff, 0xff, 1, 2}, ""},
		{"truncated", append([]byte{0, 0, 0, 100}, 1, 2, 0, 0), ""},
		{"bad_command", withLen(append([]byte{1, 1, 0, 0, 0, 0}, "\x01{garbage"...)), CodeInvalid},
		{"unknown_command_field", withLen(append([]byte{1, 1, 0, 0, 0, 0}, "\x01"+`{"op":"delete","k":"asset","id":"a","x":1}`...)), CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := rawForward(t, f, leader.addr, tc.raw)
			if tc.code == "" {
				if !errors.Is(err, ErrForwardProtocol) || !strings.Contains(err.Error(), "rejected") {
					t.Fatalf("got %v, want a rejection", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Fatalf("got %v, want code %s", err, tc.code)
			}
		})
	}
	// The server still answers well-formed requests.
	ok, err := encodeForwardRequest(forwardRequest{op: opReadIndex, timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := rawForward(t, f, leader.addr, ok); err != nil {
		t.Fatalf("read index after malformed frames: %v", err)
	}
}

// testForwardStaleTarget sends the first attempt to a follower, which
// answers "not leader" with a hint; the retry follows the hint.
func testForwardStaleTarget(t *testing.T, followers []*fwNode) {
	from, wrong := followers[0], followers[1]
	var calls atomic.Int32
	fwd := NewForwarder(from.store, from.tr, func(id, addr string) string {
		if calls.Add(1) == 1 {
			return wrong.addr
		}
		return addr
	}, nil)
	defer fwd.Close()
	res, err := fwd.Apply(ctxT(t, 10*time.Second), createCmd(t, KindAsset, "retry", testAsset("retry")))
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("leader address asked %d times, want 2", n)
	}
	if err := fwd.Linearize(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if a, err := from.store.Asset("retry"); err != nil || a.Revision != res.Revision {
		t.Fatalf("asset = %+v, %v", a, err)
	}
}

func testForwardLeaderChange(t *testing.T, nodes []*fwNode, old *fwNode) {
	// On a loaded machine leadership may already have moved by itself; a
	// transfer from a node that no longer leads is then not needed.
	if err := old.store.TransferLeadership(); err != nil && !errors.Is(err, ErrNotLeader) {
		t.Fatal(err)
	}
	leader, followers := fwLeader(t, nodes)
	if leader == old {
		t.Fatal("leadership did not move")
	}
	ctx := ctxT(t, 10*time.Second)
	var last uint64
	for i, n := range followers {
		res, err := n.fwd.Apply(ctx, createCmd(t, KindSite, "site"+string(rune('a'+i)), &Site{Name: "site" + string(rune('a'+i)), CIDRs: []string{"10.0.0.0/8"}, P2PPolicy: P2POn}))
		if err != nil {
			t.Fatalf("write via %s after the change: %v", n.id, err)
		}
		last = max(last, res.Index)
	}
	for _, n := range nodes {
		if err := n.fwd.Linearize(ctx); err != nil {
			t.Fatalf("%s: %v", n.id, err)
		}
		if got := n.store.AppliedIndex(); got < last {
			t.Fatalf("%s applied %d after linearize, want >= %d", n.id, got, last)
		}
		sites, err := n.store.Sites()
		if err != nil || len(sites) != 2 {
			t.Fatalf("%s: sites = %+v, %v", n.id, sites, err)
		}
	}
}

// TestForwardRequestFrames pins the request layout and round-trips it.
func TestForwardRequestFrames(t *testing.T) {
	cmd := []byte("\x01{}")
	tests := []struct {
		name string
		req  forwardRequest
		hex  string
	}{
		{"read_index", forwardRequest{op: opReadIndex}, "00000006" + "0102" + "00000000"},
		{"read_index_timeout", forwardRequest{op: opReadIndex, timeout: 1500 * time.Millisecond}, "00000006" + "0102" + "000005dc"},
		{"apply", forwardRequest{op: opApply, timeout: time.Second, cmd: cmd}, "00000009" + "0101" + "000003e8" + hex.EncodeToString(cmd)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encodeForwardRequest(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b); got != tc.hex {
				t.Fatalf("encoded %s, want %s", got, tc.hex)
			}
			body, err := readFrame(bytes.NewReader(b), maxForwardRequest)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeForwardRequest(body)
			if err != nil || !reflect.DeepEqual(got, tc.req) {
				t.Fatalf("decoded %+v, %v; want %+v", got, err, tc.req)
			}
		})
	}
	for _, bad := range []forwardRequest{{op: opApply}, {op: opReadIndex, cmd: cmd}, {op: 9}} {
		if _, err := encodeForwardRequest(bad); !errors.Is(err, ErrForwardProtocol) {
			t.Errorf("encode %+v: %v", bad, err)
		}
	}
}

func TestForwardResponses(t *testing.T) {
	body := func(st forwardStatus, data string) []byte {
		return append([]byte{forwardVersion, byte(st)}, data...)
	}
	tests := []struct {
		name  string
		body  []byte
		check func(*forwardResult, error) bool
	}{
		{"ok", body(statusOK, `{"revision":7,"record":{"id":"a"},"secret":"sk_x"}`), func(r *forwardResult, err error) bool {
			return err == nil && r.Revision == 7 && string(r.Record) == `{"id":"a"}` && r.Secret == "sk_x"
		}},
		{"ok_with_index", body(statusOK, `{"revision":9,"index":5,"record":{"id":"a"}}`), func(r *forwardResult, err error) bool {
			return err == nil && r.Revision == 9 && r.Index == 5
		}},
		{"catalog_error", body(statusCatalogError, `{"code":"conflict","message":"m","revision":3}`), func(_ *forwardResult, err error) bool {
			var ce *Error
			return errors.Is(err, ErrConflict) && errors.As(err, &ce) && ce.Revision == 3 && ce.Message == "m"
		}},
		{"unknown_code", body(statusCatalogError, `{"code":"teapot"}`), isProtocol},
		{"not_leader", body(statusNotLeader, `{"leader_id":"n2","leader_addr":"1.2.3.4:5"}`), func(_ *forwardResult, err error) bool {
			var nl *notLeaderError
			return errors.Is(err, ErrNotLeader) && errors.As(err, &nl) && nl.hint.ID == "n2" && nl.hint.Addr == "1.2.3.4:5"
		}},
		{"failed", body(statusFailed, "raft: timeout"), func(_ *forwardResult, err error) bool {
			return errors.Is(err, ErrForwardFailed) && strings.Contains(err.Error(), "raft: timeout")
		}},
		{"bad_request", body(statusBadRequest, "nope"), isProtocol},
		{"bad_version", []byte{2, 0, '{', '}'}, isProtocol},
		{"unknown_status", body(99, ""), isProtocol},
		{"short", []byte{1}, isProtocol},
		{"trailing", body(statusOK, `{} {}`), isProtocol},
		{"not_json", body(statusOK, `{`), isProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeForwardResponse(tc.body)
			if !tc.check(r, err) {
				t.Fatalf("got %+v, %v", r, err)
			}
		})
	}
}

func isProtocol(_ *forwardResult, err error) bool { return errors.Is(err, ErrForwardProtocol) }

// TestForwardErrorResponses checks how the serving side encodes errors.
func TestForwardErrorResponses(t *testing.T) {
	n := newTestNode(t, "solo", true, nil)
	leaderOf(t, n)
	f := NewForwarder(n.store, nil, nil, nil)
	defer f.Close()
	decode := func(frame []byte) error {
		body, err := readFrame(bytes.NewReader(frame), maxForwardResponse)
		if err != nil {
			t.Fatal(err)
		}
		_, err = decodeForwardResponse(body)
		return err
	}
	conflict := &Error{Code: CodeConflict, Message: "stale", Revision: 4}
	var ce *Error
	if err := decode(f.errorResponse(conflict)); !errors.As(err, &ce) || *ce != *conflict {
		t.Fatalf("conflict became %v", err)
	}
	// The leader itself answering "not leader" (closing) gives no hint.
	var nl *notLeaderError
	if err := decode(f.errorResponse(ErrClosed)); !errors.As(err, &nl) || nl.hint.ID != "" {
		t.Fatalf("closed became %v", err)
	}
	if err := decode(f.errorResponse(context.DeadlineExceeded)); !errors.Is(err, ErrForwardFailed) {
		t.Fatalf("timeout became %v", err)
	}
	big := encodeForwardResponse(statusOK, make([]byte, maxForwardResponse))
	if err := decode(big); !errors.Is(err, ErrForwardFailed) {
		t.Fatalf("oversized response became %v", err)
	}
}

// FuzzDecodeForwardRequest feeds arbitrary request bodies to the decoder
// and, like the server, decodes the command of an apply: no panic, and a
// decodable request re-encodes to the same bytes.
func FuzzDecodeForwardRequest(f *testing.F) {
	f.Add([]byte{1, 2, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 0, 0, 0x13, 0x88})
	f.Add(append([]byte{1, 1, 0, 0, 3, 0xe8}, "\x01{\"op\":\"delete\",\"k\":\"asset\",\"id\":\"a1\",\"at\":\"2026-01-01T00:00:00Z\"}"...))
	f.Add(append([]byte{1, 1, 0, 0, 0, 0}, "\x01{\"op\":\"create\",\"k\":\"course\",\"id\":\"c1\",\"p\":{\"title\":\"x\",\"visibility\":\"public\"}}"...))
	f.Add(append([]byte{1, 3, 0, 0, 0x0b, 0xb8}, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"...))
	f.Add(append([]byte{1, 3, 0, 0, 0, 0}, "9F86D081"...))
	f.Add([]byte{1, 7, 0, 0, 0, 0})
	f.Add([]byte{2, 2, 0, 0, 0, 0})
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeForwardRequest(b)
		if err != nil {
			if !errors.Is(err, ErrForwardProtocol) {
				t.Fatalf("error %v is not a protocol error", err)
			}
			return
		}
		again, err := encodeForwardRequest(r)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", r, err)
		}
		if !bytes.Equal(again[4:], b) {
			t.Fatalf("round trip: %x != %x", again[4:], b)
		}
		if r.op == opApply {
			_, _ = DecodeCommand(r.cmd)
		}
	})
}

// FuzzDecodeForwardResponse: any response body decodes to a result or a
// typed error, never a panic; a result re-encodes to an equal one.
func FuzzDecodeForwardResponse(f *testing.F) {
	body := func(st forwardStatus, data string) []byte {
		return append([]byte{forwardVersion, byte(st)}, data...)
	}
	f.Add(body(statusOK, `{"revision":9,"index":5,"record":{"id":"a"},"secret":"sk_x"}`))
	f.Add(body(statusOK, `{"index":12}`))
	f.Add(body(statusCatalogError, `{"code":"conflict","message":"m","revision":3}`))
	f.Add(body(statusNotLeader, `{"leader_id":"n2","leader_addr":"1.2.3.4:5"}`))
	f.Add(body(statusIndeterminate, "lost"))
	f.Add(body(statusFailed, "x"))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeForwardResponse(b)
		if err != nil {
			if r != nil {
				t.Fatalf("result %+v with error %v", r, err)
			}
			return
		}
		again, err := decodeForwardResponse(okResponse(r)[4:])
		if err != nil || again.Revision != r.Revision || again.Index != r.Index || again.Secret != r.Secret {
			t.Fatalf("round trip %+v -> %+v, %v", r, again, err)
		}
	})
}

func BenchmarkForwardRequestCodec(b *testing.B) {
	cmd, err := EncodeCommand(&Command{Op: OpCreate, Kind: KindAsset, ID: "a1", Payload: json.RawMessage(`{"title":"A","source":"a.mp4","status":"ready"}`)})
	if err != nil {
		b.Fatal(err)
	}
	req := forwardRequest{op: opApply, timeout: time.Second, cmd: cmd}
	b.ReportAllocs()
	for b.Loop() {
		fr, err := encodeForwardRequest(req)
		if err != nil {
			b.Fatal(err)
		}
		got, err := decodeForwardRequest(fr[4:])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeCommand(got.cmd); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIndeterminateIsNotRetried: leadership lost during a commit is an
// unknown outcome. It crosses the wire as such and never counts as "not the
// leader" (which the forwarder retries, and which could apply a write twice).
func TestIndeterminateIsNotRetried(t *testing.T) {
	err := mapRaftErr(raft.ErrLeadershipLost)
	if !errors.Is(err, ErrIndeterminate) || errors.Is(err, ErrNotLeader) {
		t.Fatalf("mapRaftErr(ErrLeadershipLost) = %v", err)
	}
	if err := mapRaftErr(raft.ErrNotLeader); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("mapRaftErr(ErrNotLeader) = %v", err)
	}
	f := &Forwarder{}
	frame := f.errorResponse(mapRaftErr(raft.ErrLeadershipLost))
	_, err = decodeForwardResponse(frame[4:]) // after the length prefix
	if !errors.Is(err, ErrIndeterminate) || errors.Is(err, ErrNotLeader) {
		t.Fatalf("decoded %v, want ErrIndeterminate", err)
	}
}
