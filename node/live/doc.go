// Package live turns an instructor's stream into low-latency HLS.
//
// On the ingest node a Publication (from Manager.Publish) receives the
// stream calls of node/rtmp (codec configurations and timestamped H.264
// access units and AAC frames), packages them as CMAF: one init segment and
// a sequence of parts (target 0.5 s) grouped into key-frame-aligned
// segments (target 2 s) per rendition ("video" and "audio"), and appends
// every part to the session's Track and to its recording on disk.
//
// A Track is the DVR window of one rendition: init segments, segments and
// their parts with media sequence numbers, program date times and
// discontinuities. Everything a playlist needs travels in each part's
// header (MarshalPartHeader), so an edge rebuilds identical playlists from
// the init segment and the parts alone: Manager.Remote creates a session
// whose tracks are fed with Track.PutInit and Track.PutPart by the relay.
//
// Manager.Handler serves /live/{session}/master.m3u8, the LL-HLS media
// playlists with blocking reload, delta updates and preload hints, init
// segments, parts and whole segments. A publisher that disconnects may come
// back within a grace window and the session continues (discontinuity,
// same numbering, same recording); after it, or on Manager.End, the
// session ends and Config.OnEnd receives the finished recording, a
// directory of fragmented MP4 files that node/vod serves as an asset.
//
// See DESIGN.md for the cutting rules, the timestamp model and the wire
// format of part headers.
package live
