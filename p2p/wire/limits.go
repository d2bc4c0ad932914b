package wire

// Protocol constants (PROTOCOL.md, "Limits" and "Names").
const (
	// Subprotocol is the WebSocket subprotocol of version 1.
	Subprotocol = "classmesh-p2p.v1"
	// ChannelLabel is the label of the one data channel between two peers.
	ChannelLabel = "classmesh"
	// ProtocolVersion is the "v" of welcome and hashes.json.
	ProtocolVersion = 1
	// MaxMessageBytes bounds one tracker-plane message.
	MaxMessageBytes = 64 << 10
	// MaxPeerMessageBytes bounds one peer-plane control message.
	MaxPeerMessageBytes = 16 << 10
	// MaxDataFrameBytes bounds one binary frame of segment bytes on the
	// peer plane.
	MaxDataFrameBytes = 16 << 10
	// MaxRanges bounds the ranges of one have or lost message.
	MaxRanges = 512
	// MaxSeq is the largest segment number (2^53-1, JavaScript's largest
	// safe integer).
	MaxSeq uint64 = 1<<53 - 1
	// MaxSegmentBytes bounds a segment size and a report's byte count.
	MaxSegmentBytes int64 = 256 << 20
	// PeerIDLen is the length of a tracker-assigned peer id (hex).
	PeerIDLen = 16
)
