package mp4

import (
	"encoding/binary"
	"fmt"
)

// AACConfig is what ParseAACConfig reads from an AudioSpecificConfig
// (ISO/IEC 14496-3 1.6.2.1).
type AACConfig struct {
	// ObjectType is the first audioObjectType, as used in the codecs value
	// "mp4a.40.<ObjectType>" (2 for AAC-LC, 5 for HE-AAC, 29 for HE-AACv2).
	ObjectType int
	// SampleRate is the core (AAC) sampling rate: one access unit holds
	// FrameLength samples at this rate.
	SampleRate int
	// OutputRate is the decoder's output rate: the SBR extension rate for
	// explicitly signalled HE-AAC, else SampleRate.
	OutputRate int
	// Channels is the channel count; 0 when a program config element
	// carries it.
	Channels int
	// FrameLength is the number of core samples per access unit: 1024, or
	// 960 when frameLengthFlag is set.
	FrameLength int
}

// MaxAACConfigSize is the largest AudioSpecificConfig accepted.
const MaxAACConfigSize = 1024

// ParseAACConfig decodes an AudioSpecificConfig of an AAC family object
// type (GASpecificConfig, possibly behind explicit SBR/PS signalling).
// Other object types give ErrUnsupported; bad bits give ErrMalformed.
func ParseAACConfig(asc []byte) (AACConfig, error) {
	const path = "AudioSpecificConfig"
	var c AACConfig
	if len(asc) > MaxAACConfigSize {
		return c, unsupported("AudioSpecificConfig: %d bytes, limit %d", len(asc), MaxAACConfigSize)
	}
	r := &bitReader{b: asc}
	h, err := readASC(r, path)
	if err != nil {
		return c, err
	}
	c.ObjectType, c.SampleRate, c.OutputRate, c.Channels = h.ObjectType, h.SampleRate, h.OutputRate, h.Channels
	aot := h.ObjectType
	if aot == 5 || aot == 29 {
		aot = r.objectType() // the core object type behind explicit SBR/PS
		if aot == 22 {
			r.read(4) // extensionChannelConfiguration
		}
	}
	if !gaObjectType(aot) {
		return c, unsupported("AudioSpecificConfig: audio object type %d", aot)
	}
	c.FrameLength = 1024
	if r.read(1) == 1 { // frameLengthFlag
		c.FrameLength = 960
	}
	if r.bad {
		return c, malformed(path, "truncated (%d bytes)", len(asc))
	}
	if c.SampleRate <= 0 || c.SampleRate > 1<<20 || c.OutputRate <= 0 || c.OutputRate > 1<<20 {
		return c, malformed(path, "sampling rate %d/%d", c.SampleRate, c.OutputRate)
	}
	return c, nil
}

// gaObjectType reports whether aot is coded with a GASpecificConfig.
func gaObjectType(aot int) bool {
	switch aot {
	case 1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23:
		return true
	}
	return false
}

// AACCodec returns the RFC 6381 codecs value, "mp4a.40.<ObjectType>".
func (c AACConfig) AACCodec() string { return fmt.Sprintf("mp4a.40.%d", c.ObjectType) }

// appendDescriptor appends an ISO/IEC 14496-1 descriptor: the tag, the
// size in the shortest expandable form, then body.
func appendDescriptor(dst []byte, tag byte, body []byte) []byte {
	dst = append(dst, tag)
	n := len(body)
	var size [4]byte
	i := len(size) - 1
	size[i] = byte(n & 0x7f)
	for n >>= 7; n > 0 && i > 0; n >>= 7 {
		i--
		size[i] = byte(n&0x7f) | 0x80
	}
	dst = append(dst, size[i:]...)
	return append(dst, body...)
}

// AppendMP4ASampleEntry appends an AudioSampleEntry "mp4a" (ISO/IEC
// 14496-14 5.6) for MPEG-4 audio with an esds holding asc. rate is written
// in the 16.16 samplerate field (so values above 65535 are truncated, as
// the field allows); channels of 0 are written as 2.
func AppendMP4ASampleEntry(dst []byte, channels uint16, rate uint32, asc []byte) []byte {
	if channels == 0 {
		channels = 2
	}
	dst, entry := wboxOpen(dst, "mp4a")
	dst = wAppendZeros(dst, 6)                         // reserved
	dst = binary.BigEndian.AppendUint16(dst, 1)        // data_reference_index
	dst = wAppendZeros(dst, 8)                         // reserved
	dst = binary.BigEndian.AppendUint16(dst, channels) // channelcount
	dst = binary.BigEndian.AppendUint16(dst, 16)       // samplesize
	dst = wAppendZeros(dst, 4)                         // pre_defined, reserved
	dst = binary.BigEndian.AppendUint32(dst, rate<<16) // samplerate
	dst, esds := wfullOpen(dst, "esds", 0, 0)
	dst = append(dst, esDescriptor(asc)...)
	dst = wboxClose(dst, esds)
	return wboxClose(dst, entry)
}

// esDescriptor builds the ES_Descriptor of an esds: ES_ID 0, no flags, a
// DecoderConfigDescriptor for MPEG-4 audio (object type 0x40, stream type
// 5) with asc as DecoderSpecificInfo, and the MP4 SLConfigDescriptor.
func esDescriptor(asc []byte) []byte {
	dcd := []byte{0x40, 5<<2 | 1, 0, 0, 0}      // objectTypeIndication, streamType, bufferSizeDB
	dcd = binary.BigEndian.AppendUint32(dcd, 0) // maxBitrate
	dcd = binary.BigEndian.AppendUint32(dcd, 0) // avgBitrate
	dcd = appendDescriptor(dcd, 5, asc)
	es := []byte{0, 0, 0} // ES_ID, flags
	es = appendDescriptor(es, 4, dcd)
	es = appendDescriptor(es, 6, []byte{2})
	return appendDescriptor(nil, 3, es)
}

// NewAACTrack builds an audio Track (Format "mp4a", no samples) from an
// AudioSpecificConfig. Its Timescale is the core sampling rate, so every
// access unit lasts FrameLength ticks; SampleRate is the output rate.
func NewAACTrack(id uint32, asc []byte) (*Track, AACConfig, error) {
	cfg, err := ParseAACConfig(asc)
	if err != nil {
		return nil, cfg, err
	}
	t := &Track{
		ID: id, Kind: KindAudio, Timescale: uint32(cfg.SampleRate), Language: "und",
		Format: "mp4a", Codec: cfg.AACCodec(),
		SampleRate: uint32(cfg.OutputRate), Channels: uint16(cfg.Channels),
		SampleEntry: AppendMP4ASampleEntry(nil, uint16(cfg.Channels), uint32(cfg.SampleRate), asc),
	}
	if t.Channels == 0 {
		t.Channels = 2
	}
	return t, cfg, nil
}
