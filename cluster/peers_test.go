package cluster

import (
	"reflect"
	"testing"
)

func TestPeers(t *testing.T) {
	self := Member{ID: "self", Roles: []Role{RoleOrigin}, State: StateAlive, QUICAddr: "127.0.0.1:1", Self: true}
	src := &fakeSource{self: self, members: []Member{
		self,
		{ID: "o-b", Roles: []Role{RoleOrigin}, State: StateAlive, QUICAddr: "127.0.0.1:3"},
		{ID: "o-a", Roles: []Role{RoleEdge, RoleOrigin}, State: StateAlive, QUICAddr: "127.0.0.1:2"},
		{ID: "edge", Roles: []Role{RoleEdge}, State: StateAlive, QUICAddr: "127.0.0.1:4"},
		{ID: "leaving", Roles: []Role{RoleOrigin}, State: StateAlive, QUICAddr: "127.0.0.1:5", Leaving: true},
		{ID: "unverified", Roles: []Role{RoleOrigin}, State: StateUnverified, QUICAddr: "127.0.0.1:6"},
		{ID: "dead", Roles: []Role{RoleOrigin}, State: "dead", QUICAddr: "127.0.0.1:7"},
		{ID: "no-quic", Roles: []Role{RoleOrigin}, State: StateAlive},
	}}
	var got []string
	for _, m := range Peers(src, RoleOrigin) {
		got = append(got, m.ID)
	}
	if want := []string{"o-a", "o-b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Peers = %v, want %v", got, want)
	}
	if p := Peers(&fakeSource{}, RoleOrigin); len(p) != 0 {
		t.Fatalf("Peers of an empty source = %v", p)
	}
}

type fakeSource struct {
	self    Member
	members []Member
	epoch   uint64
}

func (f *fakeSource) Members() []Member { return f.members }
func (f *fakeSource) Self() Member      { return f.self }
func (f *fakeSource) Epoch() uint64     { return f.epoch }
