// Package ring chooses the owner of a content key among the live edge
// members of one membership view.
//
// A Ring is an immutable view: rendezvous (highest random weight) hashing
// with region preference and bounded load, so every node holding the same
// member view picks the same owner and removing a member moves only the
// keys it owned. A RingKeeper holds the current Ring and rebuilds it on
// every membership event (subscribe it with cluster.Cluster.Subscribe).
//
// Invariants: owners are a pure function of (member view, key, region);
// hashes are FNV-1a 64 followed by the splitmix64 finalizer, stable
// across processes and architectures (testdata/ring_owners.golden pins
// them); only edge members that are cluster.Member.Live (verified, not
// draining, dead or left) are candidates; the ring never refuses.
//
// The package knows membership only through cluster.Member and the
// MemberSource interface declared here; the fill protocol (cluster/fill)
// and node consult it to find owners. See ../DESIGN.md, "Fills while the
// ring converges".
package ring
