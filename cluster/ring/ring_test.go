package ring

import (
	"flag"
	"fmt"
	"github.com/classmesh/classmesh/cluster"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata/")

func edge(id, region string) cluster.Member {
	return cluster.Member{ID: id, Roles: []cluster.Role{cluster.RoleEdge}, Region: region, State: cluster.StateAlive, QUICAddr: id + ":7947"}
}

func edges(n int, region string) []cluster.Member {
	out := make([]cluster.Member, n)
	for i := range out {
		out[i] = edge(fmt.Sprintf("node-%d", i), region)
	}
	return out
}

func TestRingDistribution(t *testing.T) {
	r := NewRing(cluster.Member{}, edges(5, "eu"), 1)
	const keys = 10000
	counts := map[string]int{}
	for i := 0; i < keys; i++ {
		m, ok := r.Owner(fmt.Sprintf("asset-%d/720p/seg-%d.m4s", i%97, i), "")
		if !ok {
			t.Fatal("no owner")
		}
		counts[m.ID]++
	}
	if len(counts) != 5 {
		t.Fatalf("owners = %v, want 5 distinct", counts)
	}
	for id, c := range counts {
		share := float64(c) / keys
		if share < 0.17 || share > 0.23 {
			t.Errorf("%s owns %.3f of keys, want 0.20±0.03", id, share)
		}
	}
}

func TestRingMinimalDisruption(t *testing.T) {
	all := edges(5, "eu")
	before := NewRing(cluster.Member{}, all, 1)
	after := NewRing(cluster.Member{}, append(append([]cluster.Member{}, all[:2]...), all[3:]...), 2)
	gone := all[2].ID
	moved := 0
	for i := 0; i < 5000; i++ {
		k := fmt.Sprintf("k%d", i)
		a, _ := before.Owner(k, "")
		b, _ := after.Owner(k, "")
		if a.ID != gone && a.ID != b.ID {
			t.Fatalf("key %s moved from %s to %s though %s was removed", k, a.ID, b.ID, gone)
		}
		if a.ID == gone {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("removed node owned no key")
	}
}

func TestRingRegionPreference(t *testing.T) {
	members := append(edges(3, "eu"), edge("us-1", "us"), edge("us-2", "us"))
	r := NewRing(cluster.Member{}, members, 1)
	tests := []struct {
		region string
		want   func(cluster.Member) bool
	}{
		{"us", func(m cluster.Member) bool { return m.Region == "us" }},
		{"eu", func(m cluster.Member) bool { return m.Region == "eu" }},
		{"asia", func(cluster.Member) bool { return true }}, // no edge there: all
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			seen := map[string]bool{}
			for i := 0; i < 500; i++ {
				m, ok := r.Owner(fmt.Sprintf("k%d", i), tc.region)
				if !ok || !tc.want(m) {
					t.Fatalf("owner %+v for region %s", m, tc.region)
				}
				seen[m.ID] = true
			}
			if tc.region == "asia" && len(seen) != 5 {
				t.Fatalf("fallback used %d members, want 5", len(seen))
			}
		})
	}
	owners := r.Owners("k1", "us", 0)
	if len(owners) != 5 || owners[0].Region != "us" || owners[1].Region != "us" || owners[2].Region != "eu" {
		t.Fatalf("Owners order: %v", ids(owners))
	}
}

func TestRingBoundedLoad(t *testing.T) {
	members := edges(4, "eu")
	for i := range members {
		members[i].Load = cluster.Load{EgressBPS: 100, CapacityBPS: 1000}
	}
	plain := NewRing(cluster.Member{}, members, 1)
	key := "hot-key"
	hot, _ := plain.Owner(key, "")
	for i := range members {
		if members[i].ID == hot.ID {
			members[i].Load.EgressBPS = 900 // 0.9 vs average 0.3: over 1.25×
		}
	}
	loaded := NewRing(cluster.Member{}, members, 2)
	got, _ := loaded.Owner(key, "")
	if got.ID == hot.ID {
		t.Fatalf("overloaded %s still chosen", hot.ID)
	}
	want := plain.Owners(key, "", 2)[1]
	if got.ID != want.ID {
		t.Fatalf("owner %s, want next in rendezvous order %s", got.ID, want.ID)
	}
	if o := loaded.Owners(key, "", 0); o[len(o)-1].ID != hot.ID {
		t.Fatalf("overloaded member not last in Owners: %v", ids(o))
	}
	// Everyone overloaded relative to nobody: never skip everyone.
	single := NewRing(cluster.Member{}, []cluster.Member{{ID: "x", Roles: []cluster.Role{cluster.RoleEdge}, Load: cluster.Load{EgressBPS: 10, CapacityBPS: 1}}}, 1)
	if m, ok := single.Owner(key, ""); !ok || m.ID != "x" {
		t.Fatal("single overloaded member not chosen")
	}
	disabled := NewRingWithConfig(RingConfig{LoadEpsilon: -1}, cluster.Member{}, members, 3)
	if m, _ := disabled.Owner(key, ""); m.ID != hot.ID {
		t.Fatal("negative epsilon did not disable bounded load")
	}
}

func TestRingFiltersMembers(t *testing.T) {
	self := edge("self", "eu")
	members := []cluster.Member{
		edge("a", "eu"),
		{ID: "origin-only", Roles: []cluster.Role{cluster.RoleOrigin}, State: cluster.StateAlive},
		{ID: "dead", Roles: []cluster.Role{cluster.RoleEdge}, State: cluster.StateDead},
		{ID: "left", Roles: []cluster.Role{cluster.RoleEdge}, State: cluster.StateLeft},
		{ID: "draining", Roles: []cluster.Role{cluster.RoleEdge}, State: cluster.StateAlive, Leaving: true},
		edge("a", "eu"), // duplicate
	}
	r := NewRing(self, members, 7)
	if got := ids(r.Members()); strings.Join(got, ",") != "a,self" {
		t.Fatalf("members %v", got)
	}
	if r.Epoch() != 7 || r.Len() != 2 {
		t.Fatalf("epoch %d len %d", r.Epoch(), r.Len())
	}
	if _, ok := NewRing(cluster.Member{}, nil, 0).Owner("k", ""); ok {
		t.Fatal("empty ring returned an owner")
	}
	n := 0
	for i := 0; i < 100; i++ {
		if r.IsOwner(fmt.Sprintf("k%d", i), "") {
			n++
		}
	}
	if n == 0 || n == 100 {
		t.Fatalf("self owns %d of 100 keys", n)
	}
}

// TestRingDeterminism pins owners for fixed keys so that every build, on
// every architecture, agrees with the golden file.
func TestRingDeterminism(t *testing.T) {
	members := append(edges(4, "eu"), edge("us-1", "us"), edge("us-2", "us"))
	// Different input orders must not matter.
	r1 := NewRing(cluster.Member{}, members, 1)
	rev := make([]cluster.Member, len(members))
	for i, m := range members {
		rev[len(members)-1-i] = m
	}
	r2 := NewRing(cluster.Member{}, rev, 1)
	var b strings.Builder
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf("course-%d/1080p/seg-%d.m4s", i%3, i)
		region := []string{"", "eu", "us"}[i%3]
		a, _ := r1.Owner(k, region)
		c, _ := r2.Owner(k, region)
		if a.ID != c.ID {
			t.Fatalf("order-dependent owner for %s", k)
		}
		fmt.Fprintf(&b, "%s %q %s\n", k, region, a.ID)
	}
	golden := filepath.Join("testdata", "ring_owners.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("owners differ from %s:\n%s", golden, b.String())
	}
}

type fakeSource struct {
	self    cluster.Member
	members []cluster.Member
	epoch   uint64
}

func (f *fakeSource) Members() []cluster.Member { return f.members }
func (f *fakeSource) Self() cluster.Member      { return f.self }
func (f *fakeSource) Epoch() uint64             { return f.epoch }

func TestRingKeeper(t *testing.T) {
	src := &fakeSource{self: edge("self", "eu"), members: edges(2, "eu"), epoch: 1}
	k := NewRingKeeper(src, DefaultRingConfig())
	if k.Ring().Len() != 3 || k.Ring().Epoch() != 1 {
		t.Fatalf("initial ring len %d epoch %d", k.Ring().Len(), k.Ring().Epoch())
	}
	src.members = edges(4, "eu")
	src.epoch = 2
	k.HandleClusterEvent(cluster.Event{Type: cluster.EventJoin, Member: src.members[3]})
	if k.Ring().Len() != 5 || k.Ring().Epoch() != 2 {
		t.Fatalf("rebuilt ring len %d epoch %d", k.Ring().Len(), k.Ring().Epoch())
	}
}

func TestRingConfigValidate(t *testing.T) {
	nan := 0.0
	nan /= nan
	for _, tc := range []struct {
		name string
		cfg  RingConfig
		ok   bool
	}{
		{"default", DefaultRingConfig(), true},
		{"zero", RingConfig{}, true},
		{"nan", RingConfig{LoadEpsilon: nan}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}

func ids(ms []cluster.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func BenchmarkRingOwner(b *testing.B) {
	r := NewRing(cluster.Member{}, edges(20, "eu"), 1)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("asset-%d/720p/seg-%d.m4s", i%13, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := r.Owner(keys[i&1023], "eu"); !ok {
			b.Fatal("no owner")
		}
	}
}
