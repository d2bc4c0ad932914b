package livebridge

import (
	"strings"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
)

// Upstream says where this node subscribes to a live track it does not
// publish (and is the relay's resolver for tracks peers ask it for):
//
//  1. its Config.RelayParent, when that is an alive member other than
//     itself (a warning and the next rule otherwise);
//  2. when the ingest node is in another region, the region's relay: the
//     ring owner of "live/{track}" among this region's edges (the owner
//     itself goes on to rule 3);
//  3. the ingest node that the catalog session names.
//
// It returns false when the session is not live on another alive node.
func (b *Bridge) Upstream(track string) (string, bool) {
	id, _, _ := strings.Cut(track, "/")
	self := b.cfg.Members.Self()
	rec, err := b.cfg.Catalog.Session(id)
	if err != nil || rec.State != control.SessionLive || rec.IngestNode == "" || rec.IngestNode == self.ID {
		return "", false
	}
	ingest := b.alive(rec.IngestNode)
	if ingest == nil {
		return "", false
	}
	if p := b.cfg.RelayParent; p != "" {
		for _, m := range b.cfg.Members.Members() {
			if (m.ID == p || m.QUICAddr == p) && m.State == cluster.StateAlive && !m.Self {
				return m.QUICAddr, true
			}
		}
		b.log.Warn("livebridge: --relay-parent is not an alive member; using the ingest node", "parent", p)
	}
	if ingest.Region != self.Region {
		if owner, ok := b.cfg.Members.Owner("live/"+track, self.Region); ok && owner.ID != self.ID && owner.Region == self.Region {
			return owner.QUICAddr, true
		}
	}
	return ingest.QUICAddr, true
}

// alive returns the alive member id, or nil.
func (b *Bridge) alive(id string) *cluster.Member {
	for _, m := range b.cfg.Members.Members() {
		if m.ID == id && m.State == cluster.StateAlive {
			return &m
		}
	}
	return nil
}
