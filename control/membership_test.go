package control

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// fakeMembers is a fixed member list.
type fakeMembers []Member

func (f fakeMembers) Members() []Member { return f }

// fakeRaft records membership changes against a configuration.
type fakeRaft struct {
	st        Stats
	leader    bool
	failAdd   error
	calls     []string
	bootstrap []Server
}

func (f *fakeRaft) IsLeader() bool        { return f.leader }
func (f *fakeRaft) Stats() (Stats, error) { return f.st, nil }
func (f *fakeRaft) AddVoter(id, addr string) error {
	if f.failAdd != nil {
		return f.failAdd
	}
	f.calls = append(f.calls, "voter "+id+" "+addr)
	f.st.Voters = append(f.st.Voters, id)
	return nil
}
func (f *fakeRaft) AddNonvoter(id, addr string) error {
	if f.failAdd != nil {
		return f.failAdd
	}
	f.calls = append(f.calls, "nonvoter "+id+" "+addr)
	f.st.Nonvoters = append(f.st.Nonvoters, id)
	return nil
}
func (f *fakeRaft) RemoveServer(id string) error {
	f.calls = append(f.calls, "remove "+id)
	f.st.Voters = slices.DeleteFunc(f.st.Voters, func(v string) bool { return v == id })
	f.st.Nonvoters = slices.DeleteFunc(f.st.Nonvoters, func(v string) bool { return v == id })
	return nil
}
func (f *fakeRaft) BootstrapCluster(servers []Server) error {
	f.bootstrap = servers
	f.calls = append(f.calls, "bootstrap")
	return nil
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestMembershipReconcile: which members the leader adds and removes,
// after how long, and that unverified, suspect and self are left alone.
func TestMembershipReconcile(t *testing.T) {
	self := Member{ID: "a", RaftAddr: "a:1", Voter: true, State: MemberAlive, Since: t0}
	tests := []struct {
		name    string
		members []Member
		voters  []string // in raft before the passes
		nonvote []string
		leader  bool
		passes  []time.Duration // clock advance before each pass
		want    []string
	}{
		{name: "control member added as voter after the join delay",
			members: []Member{self, {ID: "b", RaftAddr: "b:1", Voter: true, State: MemberAlive, Since: t0}},
			voters:  []string{"a"}, leader: true,
			passes: []time.Duration{0, time.Second, 2 * time.Second},
			want:   []string{"voter b b:1"}},
		{name: "edge added as non-voter",
			members: []Member{self, {ID: "e", RaftAddr: "e:1", State: MemberAlive, Since: t0}},
			voters:  []string{"a"}, leader: true,
			passes: []time.Duration{0, 3 * time.Second},
			want:   []string{"nonvoter e e:1"}},
		{name: "not before the join delay",
			members: []Member{self, {ID: "e", RaftAddr: "e:1", State: MemberAlive}},
			voters:  []string{"a"}, leader: true,
			passes: []time.Duration{0, 2 * time.Second}},
		{name: "unverified never added (issue 11)",
			members: []Member{self, {ID: "rogue", RaftAddr: "r:1", Voter: true, State: MemberUnverified}},
			voters:  []string{"a"}, leader: true,
			passes: []time.Duration{0, time.Hour}},
		{name: "suspect neither added nor removed",
			members: []Member{self, {ID: "s", RaftAddr: "s:1", State: MemberSuspect}, {ID: "t", RaftAddr: "t:1", State: MemberSuspect}},
			voters:  []string{"a"}, nonvote: []string{"t"}, leader: true,
			passes: []time.Duration{0, time.Hour}},
		{name: "no raft address, not added",
			members: []Member{self, {ID: "e", State: MemberAlive}},
			voters:  []string{"a"}, leader: true,
			passes: []time.Duration{0, time.Hour}},
		{name: "a leaving alive member is removed at once",
			members: []Member{self, {ID: "e", RaftAddr: "e:1", State: MemberAlive, Leaving: true}},
			voters:  []string{"a"}, nonvote: []string{"e"}, leader: true,
			passes: []time.Duration{0},
			want:   []string{"remove e"}},
		{name: "a member that left is removed at once",
			members: []Member{self, {ID: "b", RaftAddr: "b:1", Voter: true, State: MemberLeft, Since: t0}},
			voters:  []string{"a", "b"}, leader: true,
			passes: []time.Duration{0},
			want:   []string{"remove b"}},
		{name: "a dead member is reaped after the reap timeout",
			members: []Member{self, {ID: "b", RaftAddr: "b:1", Voter: true, State: MemberDead, Since: t0}},
			voters:  []string{"a", "b"}, leader: true,
			passes: []time.Duration{0, 9 * time.Minute, 61 * time.Second},
			want:   []string{"remove b"}},
		{name: "self is never touched",
			members: []Member{{ID: "a", RaftAddr: "a:1", Voter: true, State: MemberLeft, Leaving: true}},
			voters:  []string{"a"}, leader: true,
			passes: []time.Duration{0}},
		{name: "a follower changes nothing",
			members: []Member{self, {ID: "e", RaftAddr: "e:1", State: MemberAlive}, {ID: "b", State: MemberLeft}},
			voters:  []string{"a", "b"},
			passes:  []time.Duration{0, time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			fr := &fakeRaft{leader: tc.leader, st: Stats{NodeID: "a", LeaderID: "a", LastIndex: 10,
				Voters: slices.Clone(tc.voters), Nonvoters: slices.Clone(tc.nonvote)}}
			m, err := newMembership(fr, MembershipConfig{Members: fakeMembers(tc.members), Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tc.passes {
				clock.Advance(d)
				if err := m.pass(); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(fr.calls, tc.want) {
				t.Fatalf("calls = %q, want %q", fr.calls, tc.want)
			}
		})
	}
}

// TestMembershipAddFailureIsReported: a refused addition is an error of
// the pass and is tried again by the next one.
func TestMembershipAddFailureIsReported(t *testing.T) {
	fr := &fakeRaft{leader: true, st: Stats{NodeID: "a", Voters: []string{"a"}}, failAdd: ErrNotLeader}
	clock := &fakeClock{t: t0}
	m, err := newMembership(fr, MembershipConfig{Now: clock.Now,
		Members: fakeMembers{{ID: "e", RaftAddr: "e:1", State: MemberAlive}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.pass() // first sight
	clock.Advance(DefaultJoinDelay)
	if err := m.pass(); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("pass = %v, want ErrNotLeader", err)
	}
	fr.failAdd = nil
	if err := m.pass(); err != nil || len(fr.calls) != 1 {
		t.Fatalf("retry: %v, calls %q", err, fr.calls)
	}
}

// TestMembershipBootstrapExpect: the lowest-id voter bootstraps the first
// N voters in id order once N are in gossip; the others, and a replica
// with state, wait.
func TestMembershipBootstrapExpect(t *testing.T) {
	members := fakeMembers{
		{ID: "n2", RaftAddr: "n2:1", Voter: true, State: MemberAlive},
		{ID: "n1", RaftAddr: "n1:1", Voter: true, State: MemberSuspect},
		{ID: "e1", RaftAddr: "e1:1", State: MemberAlive},                   // not control
		{ID: "n0", Voter: true, State: MemberAlive},                        // no raft address yet
		{ID: "n00", RaftAddr: "x:1", Voter: true, State: MemberUnverified}, // not verified
		{ID: "n3", RaftAddr: "n3:1", Voter: true, State: MemberAlive},
		{ID: "n4", RaftAddr: "n4:1", Voter: true, State: MemberDead},
	}
	tests := []struct {
		name   string
		self   string
		expect int
		st     Stats
		want   []Server
	}{
		{name: "lowest id bootstraps", self: "n1", expect: 3,
			want: []Server{{"n1", "n1:1", true}, {"n2", "n2:1", true}, {"n3", "n3:1", true}}},
		{name: "first N only", self: "n1", expect: 2,
			want: []Server{{"n1", "n1:1", true}, {"n2", "n2:1", true}}},
		{name: "others wait", self: "n2", expect: 3},
		{name: "too few voters", self: "n1", expect: 4},
		{name: "a replica with a log does nothing", self: "n1", expect: 3, st: Stats{LastIndex: 1}},
		{name: "a replica that knows a leader does nothing", self: "n1", expect: 3,
			st: Stats{Voters: []string{"n1"}, LeaderID: "n2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.st.NodeID = tc.self
			fr := &fakeRaft{st: tc.st}
			m, err := newMembership(fr, MembershipConfig{Members: members, BootstrapExpect: tc.expect})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.pass(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fr.bootstrap, tc.want) {
				t.Fatalf("bootstrap = %v, want %v", fr.bootstrap, tc.want)
			}
		})
	}
}

// TestMembershipConfig: Members is required, Start runs once, Close is
// idempotent and works without Start.
func TestMembershipConfig(t *testing.T) {
	if _, err := newMembership(&fakeRaft{}, MembershipConfig{}); !errors.Is(err, ErrNoMembers) {
		t.Fatalf("no Members: %v", err)
	}
	if _, err := NewMembership(nil, MembershipConfig{Members: fakeMembers{}}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("no store: %v", err)
	}
	m, err := newMembership(&fakeRaft{}, MembershipConfig{Members: fakeMembers{}, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, _ = newMembership(&fakeRaft{}, MembershipConfig{Members: fakeMembers{}, Interval: time.Millisecond})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}
