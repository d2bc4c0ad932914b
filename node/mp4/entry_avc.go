package mp4

import (
	"encoding/binary"
	"fmt"
)

// AVCConfig is an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3),
// as carried in an avcC box or an RTMP/FLV AVC sequence header.
type AVCConfig struct {
	// Profile, Compatibility and Level are AVCProfileIndication,
	// profile_compatibility and AVCLevelIndication.
	Profile, Compatibility, Level uint8
	// LengthSize is the size in bytes of the NAL unit length prefix of
	// every sample: 1, 2 or 4.
	LengthSize int
	// SPS and PPS are the parameter set NAL units, sub-slices of the
	// record.
	SPS, PPS [][]byte
}

// MaxAVCConfigSize is the largest record ParseAVCConfig and NewAVCTrack
// accept (64 KiB; real ones are well under 1 KiB).
const MaxAVCConfigSize = 64 << 10

// ParseAVCConfig decodes an AVCDecoderConfigurationRecord: at least one
// SPS and one PPS, each list holding only NAL units of its type (7, 8).
// Trailing bytes (the High profile extension) are allowed and ignored.
// Errors wrap ErrMalformed or ErrUnsupported. It is the one avcC parser of
// classmesh: the live packager and RTMP's sequence headers use it.
func ParseAVCConfig(b []byte) (AVCConfig, error) {
	const path = "avcC"
	var c AVCConfig
	if len(b) > MaxAVCConfigSize {
		return c, unsupported("avcC: %d bytes, limit %d", len(b), MaxAVCConfigSize)
	}
	if len(b) < 7 {
		return c, malformed(path, "record is %d bytes, need 7", len(b))
	}
	if b[0] != 1 {
		return c, malformed(path, "configurationVersion %d", b[0])
	}
	c.Profile, c.Compatibility, c.Level = b[1], b[2], b[3]
	c.LengthSize = int(b[4]&3) + 1
	if c.LengthSize == 3 {
		return c, malformed(path, "lengthSizeMinusOne 2")
	}
	rest := b[5:]
	var err error
	if c.SPS, rest, err = parameterSets(rest[1:], int(rest[0]&0x1f), "SPS", 7); err != nil {
		return c, err
	}
	if len(rest) < 1 {
		return c, malformed(path, "numOfPictureParameterSets missing")
	}
	if c.PPS, _, err = parameterSets(rest[1:], int(rest[0]), "PPS", 8); err != nil {
		return c, err
	}
	if len(c.SPS) == 0 {
		return c, malformed(path, "no SPS")
	}
	if len(c.PPS) == 0 {
		return c, malformed(path, "no PPS")
	}
	return c, nil
}

// parameterSets reads n NAL units of type nalType, each with a 16-bit
// length, from b and returns them and the bytes after them.
func parameterSets(b []byte, n int, what string, nalType byte) ([][]byte, []byte, error) {
	sets := make([][]byte, 0, n)
	for i := range n {
		if len(b) < 2 {
			return nil, nil, malformed("avcC", "%s %d: length truncated", what, i)
		}
		size := int(binary.BigEndian.Uint16(b))
		if size == 0 || size > len(b)-2 {
			return nil, nil, malformed("avcC", "%s %d: length %d with %d bytes left", what, i, size, len(b)-2)
		}
		if t := b[2] & 0x1f; t != nalType {
			return nil, nil, malformed("avcC", "%s %d: NAL unit type %d, want %d", what, i, t, nalType)
		}
		sets = append(sets, b[2:2+size])
		b = b[2+size:]
	}
	return sets, b, nil
}

// AVCCodec returns the RFC 6381 codecs value of an AVC configuration,
// "avc1.PPCCLL".
func (c AVCConfig) AVCCodec() string {
	return fmt.Sprintf("avc1.%02X%02X%02X", c.Profile, c.Compatibility, c.Level)
}

// AppendAVCSampleEntry appends a VisualSampleEntry "avc1" (ISO/IEC
// 14496-12 12.1.3, 14496-15 5.4.2) of the given size holding record as its
// avcC box.
func AppendAVCSampleEntry(dst []byte, width, height uint16, record []byte) []byte {
	dst, entry := wboxOpen(dst, "avc1")
	dst = wAppendZeros(dst, 6)                       // reserved
	dst = binary.BigEndian.AppendUint16(dst, 1)      // data_reference_index
	dst = wAppendZeros(dst, 16)                      // pre_defined, reserved
	dst = binary.BigEndian.AppendUint16(dst, width)  // width
	dst = binary.BigEndian.AppendUint16(dst, height) // height
	dst = binary.BigEndian.AppendUint32(dst, 72<<16) // horizresolution
	dst = binary.BigEndian.AppendUint32(dst, 72<<16) // vertresolution
	dst = binary.BigEndian.AppendUint32(dst, 0)      // reserved
	dst = binary.BigEndian.AppendUint16(dst, 1)      // frame_count
	dst = wAppendZeros(dst, 32)                      // compressorname
	dst = binary.BigEndian.AppendUint16(dst, 0x18)   // depth
	dst = binary.BigEndian.AppendUint16(dst, 0xFFFF) // pre_defined = -1
	dst, avcC := wboxOpen(dst, "avcC")
	dst = append(dst, record...)
	dst = wboxClose(dst, avcC)
	return wboxClose(dst, entry)
}

// NewAVCTrack builds a video Track (Format "avc1", no samples) from an
// AVCDecoderConfigurationRecord: the sample entry, the codecs value and
// the picture size of the first SPS. A zero timescale means 90000.
func NewAVCTrack(id, timescale uint32, record []byte) (*Track, error) {
	cfg, err := ParseAVCConfig(record)
	if err != nil {
		return nil, err
	}
	sps, err := ParseSPS(cfg.SPS[0])
	if err != nil {
		return nil, err
	}
	if sps.Width > 0xFFFF || sps.Height > 0xFFFF {
		return nil, unsupported("avc: picture %dx%d", sps.Width, sps.Height)
	}
	if timescale == 0 {
		timescale = 90000
	}
	w, h := uint16(sps.Width), uint16(sps.Height)
	return &Track{
		ID: id, Kind: KindVideo, Timescale: timescale, Language: "und",
		Format: "avc1", Codec: cfg.AVCCodec(), Width: w, Height: h,
		SampleEntry: AppendAVCSampleEntry(nil, w, h, record),
	}, nil
}
