// Package livebridge moves a live class between node/live and the
// cluster's relay, so that node only wires it in.
//
// Publish side (an ingest node): Bridge.Publish admits an RTMP publisher
// (node/rtmp calls it as its rtmp.Publisher), marks the catalog session
// live, and for every rendition copies the session's live.Track to a relay
// track "{session}/{rendition}" through a blocking live.Cursor: init
// changes become the relay track's init, parts become objects (group =
// MSN, object = part index, header = live.MarshalPartHeader).
//
// Edge side (every other node): Bridge.Attach subscribes to the session's
// relay tracks while the session has viewers and feeds them into a remote
// live.Session with Track.PutInit and Track.PutPart; Bridge.Upstream
// decides where a node subscribes (its --relay-parent, its region's relay
// node, or the ingest node) and is the relay's resolver.
//
// Nothing is polled: readers block on live.Cursor, live.Session.WaitTrack,
// live.Session.Done and relay.Subscription.Next. The only timers are
// back-offs (subscribing again to a lost upstream, retrying a catalog
// write) and one housekeeping tick (sessions ended through the API, edges
// without viewers).
//
// Contract: New starts nothing; Start(ctx) starts the housekeeping loop;
// Close stops every goroutine the bridge started (feeders, subscriptions,
// catalog writes, recording adoption) and waits for them, once. See
// DESIGN.md.
package livebridge
