// Package segsource is the one owner of VOD segments on a node: where the
// bytes of seg-N.m4s come from. A Source, shaped like groupcache's Group,
// keeps the whole policy in one place (Source.load):
//
//	local cache → ring owner (fill protocol) → origin (packaging)
//
// with the resume path: when the owner fails mid-segment, this node
// packages the segment from the origin itself and writes only the bytes
// the owner had not sent.
//
// Both ways a segment is asked for go through the Source: Source.Get for
// this node's learners (the /v/... route) and Source.Serve for another
// node's fill request (the fill server's handler). Names are parsed once,
// where a request enters (the route, the fill protocol), into a SegmentRef
// that is passed down.
//
// The package imports neither cluster nor control: it declares the small
// interfaces it uses (Cache, Ring, Peers, Packager) and node adapts the
// concrete types (node/segments.go).
//
// Invariants:
//
//   - Exactly one origin fill per segment per cluster while the nodes'
//     rings agree: a learner's node asks the owner it sees (hop 1); the
//     owner serves from its cache, whose single flight joins every
//     concurrent request, and only the owner reads the origin.
//   - At most Config.MaxHops (cluster/fill.MaxFillHops, 2) hops, never a loop:
//     a node asked at hop 1 for a segment it neither owns in its view nor
//     holds forwards once to the owner it sees (hop 2), unless that owner
//     is the requester; a request at hop MaxHops is always answered from
//     this node's cache or origin.
//   - Resume writes only the bytes not yet sent: after an owner failed
//     having written k bytes, the origin fill skips the first k bytes of
//     its (deterministic, identical) output, so a learner's response goes
//     on without a break or a repeated byte.
//   - A failed fill caches nothing (the cache's rule): the next request
//     fills again.
//
// A Source starts no goroutine and holds nothing to close.
package segsource
