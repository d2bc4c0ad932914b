package cluster

import (
	"slices"
	"strings"
)

// Peers returns the members of src other than self that may be given work
// in role r over QUIC: live (not leaving, dead, left or unverified), with a
// QUIC address, sorted by ID. Cluster.Members lists verified members only,
// so every peer it returns has proved a cluster certificate for its name.
//
// The remote origin (node/origin/remote) reads media from Peers(c,
// RoleOrigin); node hands it this list through the small interface the
// remote origin declares.
func Peers(src MemberSource, r Role) []Member {
	self := src.Self().ID
	var out []Member
	for _, m := range src.Members() {
		if m.Has(r) && m.Live() && m.QUICAddr != "" && m.ID != self && !m.Self {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// MemberSource supplies membership views; *Cluster implements it.
type MemberSource interface {
	Members() []Member
	Self() Member
	Epoch() uint64
}
