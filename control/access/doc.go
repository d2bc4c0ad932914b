// Package access decides who may read media: play an asset (VOD, its
// playlists, init and media segments, hash lists), watch a live session
// (LL-HLS) or join the peer-assistance swarm of either. It is the one place
// that decides; every media path of the node asks a Policy.
//
// # Model
//
// A Policy is an immutable snapshot of the catalog (courses, lessons,
// assets, live sessions and signing keys) taken at one applied raft index;
// the node rebuilds it when the replica's applied index moves.
//
//   - An asset's courses are its owner course plus the courses of every
//     lesson that links it. A recording (a session's RecordingAssetID)
//     also belongs to its session's course.
//   - An asset plays freely iff one of its courses is public. An asset in
//     no course at all (a library file nobody has put in a course yet)
//     plays freely too, unless its id is a live session's id or that id
//     followed by "-N": that is the session's recording, adopted into the
//     library before the catalog points the session to it, and it must not
//     be open for that moment.
//   - A live session belongs to its CourseID and plays freely iff that
//     course is public. A course the snapshot does not know is not public.
//   - Anything that does not play freely needs a playback token (see
//     control/playback) that is genuine, current, in its subnet and whose
//     scope covers the request: "course:C" covers every asset and session
//     of C; an asset id covers that asset; "session:S" (SessionScope)
//     covers session S and its recording.
//   - A token is checked whenever one is given, even for free media, so a
//     broken link fails the same way everywhere.
//
// # Invariants
//
//   - Check is pure: the same Policy, request and clock give the same
//     Decision. It never reads the catalog.
//   - Every refusal has a stable reason code (Decision.Reason), the
//     playback package's codes for token failures plus ReasonTokenRequired,
//     ReasonUnknownSession and ReasonUnavailable.
//   - A Closed policy (the node could not read its catalog) refuses
//     everything: the model fails closed.
//   - Label never returns the id of media that does not play freely, so
//     metrics built with it name no private asset or session.
package access
