package rtmp

import "fmt"

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

// parseASC validates the leading fields of an AudioSpecificConfig
// (ISO/IEC 14496-3 1.6.2.1): an object type, a sampling frequency and a
// channel configuration.
func parseASC(asc []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: AAC sequence header: %s", ErrProtocol, fmt.Sprintf(format, args...))
	}
	r := bitReader{b: asc}
	aot := r.read(5)
	if aot == 31 {
		aot = 32 + r.read(6)
	}
	freq := r.read(4)
	if freq == 0xf {
		freq = r.read(24)
		if freq == 0 && !r.bad {
			return bad("explicit sampling frequency 0")
		}
	} else if freq > 12 {
		return bad("sampling frequency index %d", freq)
	}
	channels := r.read(4)
	switch {
	case r.bad:
		return bad("%d bytes", len(asc))
	case aot == 0:
		return bad("audio object type 0")
	case channels > 7 && channels < 11 || channels == 15:
		return bad("channel configuration %d", channels)
	}
	return nil
}

// bitReader reads MSB-first bit fields; reading past the end sets bad.
type bitReader struct {
	b   []byte
	pos int
	bad bool
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for range n {
		if r.pos >= len(r.b)*8 {
			r.bad = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}
