package rtmp

import (
	"fmt"

	"github.com/classmesh/classmesh/node/mp4"
)

// FLV audio tag fields (FLV v10 E.4.2.1) and enhanced RTMP v2's extended
// audio header.
const (
	flvSoundAAC       = 10
	flvSoundExHeader  = 9
	aacSequenceHeader = 0
	aacRaw            = 1
)

// audioTag is a parsed FLV audio tag body. data aliases the input.
type audioTag struct {
	kind tagKind
	data []byte
}

// parseAudioTag parses the body of an audio message. Only AAC is
// accepted, in the classic form (sound format 10) or enhanced RTMP's
// "mp4a".
func parseAudioTag(b []byte) (audioTag, error) {
	if len(b) == 0 {
		return audioTag{}, fmt.Errorf("%w: empty audio tag", ErrProtocol)
	}
	switch format := b[0] >> 4; format {
	case flvSoundAAC:
	case flvSoundExHeader:
		return parseExAudioTag(b)
	default:
		return audioTag{}, fmt.Errorf("%w audio codec %d", ErrUnsupported, format)
	}
	if len(b) < 2 {
		return audioTag{}, fmt.Errorf("%w: AAC audio tag of %d bytes", ErrProtocol, len(b))
	}
	switch b[1] {
	case aacSequenceHeader:
		return audioTag{kind: tagConfig, data: b[2:]}, nil
	case aacRaw:
		return audioTag{kind: tagFrame, data: b[2:]}, nil
	}
	return audioTag{}, fmt.Errorf("%w: AAC packet type %d", ErrProtocol, b[1])
}

// parseExAudioTag parses an enhanced RTMP audio tag.
func parseExAudioTag(b []byte) (audioTag, error) {
	if len(b) < 5 {
		return audioTag{}, fmt.Errorf("%w: enhanced audio tag of %d bytes", ErrProtocol, len(b))
	}
	pkt, fourCC := b[0]&0x0f, b[1:5]
	if string(fourCC) != "mp4a" {
		return audioTag{}, fmt.Errorf("%w audio codec %s", ErrUnsupported, printableFourCC(fourCC))
	}
	switch pkt {
	case exSequenceStart:
		return audioTag{kind: tagConfig, data: b[5:]}, nil
	case exCodedFrames:
		return audioTag{kind: tagFrame, data: b[5:]}, nil
	case exSequenceEnd:
		return audioTag{kind: tagSkip}, nil
	}
	return audioTag{}, fmt.Errorf("%w enhanced audio packet type %d", ErrUnsupported, pkt)
}

// parseASC validates an AAC sequence header with node/mp4's
// AudioSpecificConfig parser. Publishing is stricter than reading a file:
// an explicit sampling frequency of 0 and a reserved channel configuration
// are refused too.
func parseASC(asc []byte) error {
	c, err := mp4.ParseASC(asc)
	switch {
	case err != nil:
		return fmt.Errorf("%w: AAC sequence header: %d bytes: %w", ErrProtocol, len(asc), err)
	case c.SampleRate == 0:
		return fmt.Errorf("%w: AAC sequence header: explicit sampling frequency 0", ErrProtocol)
	case c.ChannelConfig > 7 && c.ChannelConfig < 11 || c.ChannelConfig == 15:
		return fmt.Errorf("%w: AAC sequence header: channel configuration %d", ErrProtocol, c.ChannelConfig)
	}
	return nil
}
