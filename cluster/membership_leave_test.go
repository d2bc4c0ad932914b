package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLeaveNoticeDecode(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
		err  error
	}{
		{"valid", encodeLeaveNotice("edge-2.campus_a"), "edge-2.campus_a", nil},
		{"empty", nil, "", errBadNotice},
		{"type only", []byte{msgLeaving}, "", errBadNotice},
		{"wrong type", append([]byte{0x01}, "edge2"...), "", errBadNotice},
		{"bad id", encodeLeaveNotice("edge 2"), "", errBadNotice},
		{"long id", encodeLeaveNotice(strings.Repeat("a", 65)), "", errBadNotice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeLeaveNotice(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("decodeLeaveNotice(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestLeaveNoticesTakeOnce(t *testing.T) {
	var l leaveNotices
	now := time.Unix(1000, 0)
	l.add("a", now)
	l.add("old", now.Add(-2*leaveNoticeTTL))
	if !l.take("a", now.Add(time.Second)) {
		t.Fatal("a notice just received was not found")
	}
	if l.take("a", now.Add(time.Second)) {
		t.Fatal("a notice was taken twice")
	}
	if l.take("old", now) {
		t.Fatal("an expired notice counted")
	}
	l.add("b", now)
	if l.take("b", now.Add(leaveNoticeTTL+time.Second)) {
		t.Fatal("a notice older than the TTL counted")
	}
}

func FuzzDecodeLeaveNotice(f *testing.F) {
	f.Add(encodeLeaveNotice("edge1"))
	f.Add([]byte{msgLeaving, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := decodeLeaveNotice(b)
		if err != nil {
			return
		}
		if !validNodeID(id) || string(encodeLeaveNotice(id)) != string(b) {
			t.Fatalf("accepted %q as %q", b, id)
		}
	})
}

// TestLeaveNoticeWithoutGossip leaves without the gossiped leaving flag:
// the direct notice alone must make the leave graceful for the others.
func TestLeaveNoticeWithoutGossip(t *testing.T) {
	rec := &mtRecorder{}
	a := mtStart(t, "node-a", nil)
	a.Subscribe(rec)
	b := mtStart(t, "node-b", mtJoin(a))
	mtWaitMembers(t, 2, a, b)
	ml := b.memberlist()
	b.sendLeaveNotices(ml, 5*time.Second)
	if err := ml.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	mtEventually(t, 30*time.Second, "node-b left", func() bool {
		return rec.has(EventLeave, "node-b", func(m Member) bool { return m.State == StateLeft })
	})
	if rec.has(EventFail, "node-b", nil) {
		t.Fatal("a graceful leave with a notice was seen as a failure")
	}
}
