package rtmp

import (
	"context"
	"net"
)

// PublishRequest describes a publish command.
type PublishRequest struct {
	// App is the application from connect (Config.App).
	App string
	// Key is the stream key (the publishing name) without its query
	// string.
	Key string
	// Remote is the client's address.
	Remote net.Addr
}

// Publisher decides whether a publish is accepted and receives the media.
type Publisher interface {
	// Publish is called on the publish command. An error refuses it (the
	// client gets NetStream.Publish.BadName for ErrUnknownKey-wrapped
	// errors, NetStream.Publish.Denied otherwise, then the connection is
	// closed). ctx ends when the connection does.
	Publish(ctx context.Context, req PublishRequest) (Stream, error)
}

// Stream receives one publish's media. Its methods are called from the
// connection's goroutine, one at a time. An error returned by any of them
// closes the connection (logged); Close is still called.
type Stream interface {
	// VideoConfig receives the AVCDecoderConfigurationRecord each time one
	// arrives. lengthSizeMinusOne is always 3 (Video's NAL units have
	// 4-byte lengths). The callee owns avcC.
	VideoConfig(avcC []byte) error
	// AudioConfig receives the AudioSpecificConfig each time one arrives.
	// The callee owns asc.
	AudioConfig(asc []byte) error
	// Video receives one access unit: NAL units each prefixed by a 4-byte
	// big-endian length, dts in ms (rollover-extended), cts the
	// composition offset in ms, key the FLV keyframe flag. The callee owns
	// data.
	Video(dts int64, cts int32, key bool, data []byte) error
	// Audio receives one raw AAC frame with its pts in ms
	// (rollover-extended). The callee owns data.
	Audio(pts int64, data []byte) error
	// Close is called exactly once when the publisher goes away: nil
	// after deleteStream, FCUnpublish or a clean close; non-nil on
	// network or protocol errors and on Server.Close (ErrServerClosed).
	Close(err error)
}
