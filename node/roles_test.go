package node

import (
	"testing"

	"github.com/classmesh/classmesh/cluster"
)

// TestOriginWithoutMediaIsNotAdvertised reproduces finding 8 of issue 11
// (origin service): a node with the default roles but no media advertised
// the origin role, so every other node dialled its classmesh-origin/1 once
// a minute and was refused. Now the role is not gossiped; the node keeps
// its local origin duty (RTMP ingest).
func TestOriginWithoutMediaIsNotAdvertised(t *testing.T) {
	o := mustNewNode(t, Config{MediaDir: demoDir(t), ClusterSecret: testSecret, NodeID: "media"})
	bare := mustNewNode(t, Config{ClusterSecret: testSecret, NodeID: "bare",
		Join: []string{o.Cluster().Self().GossipAddr}})
	waitFor(t, "both nodes to see each other", func() bool {
		return len(o.Cluster().Members()) == 2 && len(bare.Cluster().Members()) == 2
	})
	for _, m := range o.Cluster().Members() {
		switch m.ID {
		case "bare":
			if m.Has(cluster.RoleOrigin) {
				t.Errorf("node without media advertises the origin role: %v", m.Roles)
			}
			if !m.Has(cluster.RoleEdge) || !m.Has(cluster.RoleControl) {
				t.Errorf("node without media lost its other roles: %v", m.Roles)
			}
		case "media":
			if !m.Has(cluster.RoleOrigin) {
				t.Errorf("node with media does not advertise the origin role: %v", m.Roles)
			}
		}
	}
	if bare.RTMPAddr() == nil {
		t.Error("node without media stopped ingesting RTMP")
	}
}
