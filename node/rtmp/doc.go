// Package rtmp is classmesh's RTMP ingest server: instructors publish live
// video from OBS, Zoom or ffmpeg to rtmp://HOST/live/KEY and the server hands
// H.264 access units and AAC frames to a Publisher.
//
// The package is written from the Adobe specifications (RTMP 1.0, AMF0, FLV
// v10). It implements the simple handshake, the chunk stream with all four
// header formats, extended timestamps and the protocol control messages
// (Set Chunk Size, Abort, Acknowledgement, Window Acknowledgement Size, Set
// Peer Bandwidth, User Control), AMF0 commands for publishing
// (connect, releaseStream, FCPublish, createStream, publish, FCUnpublish,
// deleteStream) and the FLV audio and video tag bodies for AVC and AAC.
// Playing is refused: the server only ingests.
//
// Every connection is read by one goroutine that owns its state; replies are
// written from the same goroutine. Anything the server does not understand
// or does not support (garbage, oversized chunks or messages, commands out of
// order, codecs other than H.264 and AAC) closes that connection with a log
// line naming the reason; other connections are untouched. See DESIGN.md.
package rtmp
