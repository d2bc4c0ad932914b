package rtmp

import (
	"encoding/binary"
	"fmt"

	"github.com/classmesh/classmesh/node/mp4"
)

// FLV video tag fields (FLV v10 E.4.3.1) and enhanced RTMP's extended
// header (Veovera enhanced RTMP v1/v2).
const (
	flvCodecAVC       = 7
	flvFrameKey       = 1
	flvFrameInfo      = 5
	avcSequenceHeader = 0
	avcNALU           = 1
	avcEndOfSequence  = 2
	videoExHeaderBit  = 0x80
)

// Enhanced RTMP video packet types.
const (
	exSequenceStart = 0
	exCodedFrames   = 1
	exSequenceEnd   = 2
	exCodedFramesX  = 3
	exMetadata      = 4
)

// tagKind says what a parsed tag carries.
type tagKind int

const (
	tagSkip   tagKind = iota // nothing for the Stream (end of sequence, info frames)
	tagConfig                // a decoder configuration record
	tagFrame                 // coded media
)

// videoTag is a parsed FLV video tag body. data aliases the input.
type videoTag struct {
	kind tagKind
	key  bool
	cts  int32
	data []byte
}

// parseVideoTag parses the body of a video message. Only H.264 is
// accepted, in the classic form (codec id 7) or enhanced RTMP's "avc1".
func parseVideoTag(b []byte) (videoTag, error) {
	if len(b) == 0 {
		return videoTag{}, fmt.Errorf("%w: empty video tag", ErrProtocol)
	}
	if b[0]&videoExHeaderBit != 0 {
		return parseExVideoTag(b)
	}
	frame, codec := b[0]>>4, b[0]&0x0f
	if codec != flvCodecAVC {
		return videoTag{}, fmt.Errorf("%w video codec %d", ErrUnsupported, codec)
	}
	if err := checkFrameType(frame); err != nil {
		return videoTag{}, err
	}
	if frame == flvFrameInfo {
		return videoTag{kind: tagSkip}, nil
	}
	if len(b) < 5 {
		return videoTag{}, fmt.Errorf("%w: AVC video tag of %d bytes", ErrProtocol, len(b))
	}
	t := videoTag{key: frame == flvFrameKey, cts: si24(b[2:]), data: b[5:]}
	switch b[1] {
	case avcSequenceHeader:
		t.kind = tagConfig
	case avcNALU:
		t.kind = tagFrame
	case avcEndOfSequence:
		t.kind = tagSkip
	default:
		return videoTag{}, fmt.Errorf("%w: AVC packet type %d", ErrProtocol, b[1])
	}
	return t, nil
}

// parseExVideoTag parses an enhanced RTMP video tag.
func parseExVideoTag(b []byte) (videoTag, error) {
	if len(b) < 5 {
		return videoTag{}, fmt.Errorf("%w: enhanced video tag of %d bytes", ErrProtocol, len(b))
	}
	frame, pkt, fourCC := (b[0]>>4)&7, b[0]&0x0f, b[1:5]
	if string(fourCC) != "avc1" {
		return videoTag{}, fmt.Errorf("%w video codec %s", ErrUnsupported, printableFourCC(fourCC))
	}
	if err := checkFrameType(frame); err != nil {
		return videoTag{}, err
	}
	t := videoTag{key: frame == flvFrameKey}
	switch {
	case pkt == exMetadata, pkt == exSequenceEnd, frame == flvFrameInfo:
		t.kind = tagSkip
	case pkt == exSequenceStart:
		t.kind, t.data = tagConfig, b[5:]
	case pkt == exCodedFrames:
		if len(b) < 8 {
			return videoTag{}, fmt.Errorf("%w: enhanced video tag of %d bytes", ErrProtocol, len(b))
		}
		t.kind, t.cts, t.data = tagFrame, si24(b[5:]), b[8:]
	case pkt == exCodedFramesX:
		t.kind, t.data = tagFrame, b[5:]
	default:
		return videoTag{}, fmt.Errorf("%w enhanced video packet type %d", ErrUnsupported, pkt)
	}
	return t, nil
}

func checkFrameType(f byte) error {
	if f < 1 || f > 5 {
		return fmt.Errorf("%w: video frame type %d", ErrProtocol, f)
	}
	return nil
}

// parseAVCConfig validates an AVC sequence header with node/mp4's
// AVCDecoderConfigurationRecord parser and returns its NAL unit length size
// in bytes.
func parseAVCConfig(rec []byte) (int, error) {
	cfg, err := mp4.ParseAVCConfig(rec)
	if err != nil {
		return 0, fmt.Errorf("%w: AVC sequence header: %d bytes: %w", ErrProtocol, len(rec), err)
	}
	return cfg.LengthSize, nil
}

// avcConfigFor4 returns a copy of a valid record whose lengthSizeMinusOne
// is 3, matching the NAL units nalusTo4 produces.
func avcConfigFor4(rec []byte) []byte {
	out := append([]byte(nil), rec...)
	out[4] |= 3
	return out
}

// nalusTo4 checks a sequence of length-prefixed NAL units and returns it
// with 4-byte lengths. With size 4 the input itself is returned.
func nalusTo4(b []byte, size int) ([]byte, error) {
	count := 0
	for pos := 0; pos < len(b); count++ {
		if pos+size > len(b) {
			return nil, fmt.Errorf("%w: truncated NAL unit length at byte %d", ErrProtocol, pos)
		}
		l := nalLen(b[pos:], size)
		pos += size
		if l > uint64(len(b)-pos) {
			return nil, fmt.Errorf("%w: NAL unit of %d bytes with %d left", ErrProtocol, l, len(b)-pos)
		}
		pos += int(l)
	}
	if size == 4 {
		return b, nil
	}
	out := make([]byte, 0, len(b)+count*(4-size))
	for pos := 0; pos < len(b); {
		l := int(nalLen(b[pos:], size))
		pos += size
		out = binary.BigEndian.AppendUint32(out, uint32(l))
		out = append(out, b[pos:pos+l]...)
		pos += l
	}
	return out, nil
}

func nalLen(b []byte, size int) uint64 {
	var v uint64
	for _, c := range b[:size] {
		v = v<<8 | uint64(c)
	}
	return v
}

// si24 reads a signed 24-bit big-endian integer.
func si24(b []byte) int32 {
	return int32(u24(b)<<8) >> 8
}

// printableFourCC renders a FourCC for a log line.
func printableFourCC(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%x", b)
		}
	}
	return string(b)
}
