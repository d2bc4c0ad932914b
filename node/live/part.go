package live

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Part is one CMAF part (a moof+mdat chunk) of a segment, with everything
// a playlist needs to list it. The relay carries MarshalPartHeader(p) as
// the object header and p.Data as the payload.
type Part struct {
	// MSN is the media sequence number of the part's segment.
	MSN int64
	// Index is the part's position in its segment, from 0.
	Index int
	// Duration is the part's media duration.
	Duration time.Duration
	// Independent is true when the part starts with a key frame (every
	// audio part).
	Independent bool
	// Discontinuity marks the first part of a segment that follows a
	// discontinuity (publisher reconnect, timestamp jump, new codec
	// configuration).
	Discontinuity bool
	// Gap marks a segment without media for this rendition (audio missing
	// while video went on); such a segment has one part, with no Data.
	Gap bool
	// SegmentEnd marks the last part of its segment; SegmentDuration is
	// then the whole segment's duration.
	SegmentEnd      bool
	SegmentDuration time.Duration
	// PDT is the wall-clock time of the part's first sample (EXT-X-
	// PROGRAM-DATE-TIME); the zero time when unknown.
	PDT time.Time
	// DiscSeq is the discontinuity sequence number of the part's segment.
	DiscSeq int64
	// InitID identifies the init segment the part needs (InitID of its
	// bytes).
	InitID uint32
	// PartTarget and TargetDuration are the producer's EXT-X-PART-INF
	// PART-TARGET and EXT-X-TARGETDURATION (whole seconds) when the part
	// was made, so that every node writes the same playlist.
	PartTarget     time.Duration
	TargetDuration int
	// Data is the part's bytes: styp, moof and mdat. Not in the header.
	Data []byte
}

// InitID returns the identifier of an init segment: the first four bytes
// of its SHA-256. Equal inits have equal IDs on every node.
func InitID(init []byte) uint32 {
	sum := sha256.Sum256(init)
	return binary.BigEndian.Uint32(sum[:4])
}

// Header wire format, version 1 (big-endian, varints as encoding/binary):
//
//	version  byte (1)
//	flags    byte: 1 independent, 2 discontinuity, 4 segment end, 8 gap, 16 has PDT
//	msn      uvarint
//	index    uvarint
//	duration uvarint, microseconds
//	segdur   uvarint, microseconds (only with the segment end flag)
//	pdt      varint, Unix microseconds (only with the has-PDT flag)
//	discseq  uvarint
//	initid   4 bytes
//	partTarget uvarint, microseconds
//	targetDuration uvarint, seconds
const (
	headerVersion = 1

	flagIndependent   = 1
	flagDiscontinuity = 2
	flagSegmentEnd    = 4
	flagGap           = 8
	flagPDT           = 16
	flagsKnown        = 31
)

// Header limits; UnmarshalPartHeader refuses values beyond them.
const (
	// MaxHeaderSize bounds an encoded header (the relay allows 4 KiB).
	MaxHeaderSize = 64
	// MaxPartsPerSegment bounds Part.Index.
	MaxPartsPerSegment = 1024
	maxMSN             = 1 << 53
	maxPartDuration    = 10 * time.Minute
	maxSegmentDuration = time.Hour
	maxTargetDuration  = 3600
	minPDT             = 0                    // 1970
	maxPDT             = 7258118400 * 1000000 // 2200-01-01, in µs
)

// MarshalPartHeader encodes p's metadata (everything but Data). Durations
// are carried in whole microseconds.
func MarshalPartHeader(p Part) []byte {
	b := make([]byte, 0, 48)
	flags := byte(0)
	for _, f := range []struct {
		on  bool
		bit byte
	}{{p.Independent, flagIndependent}, {p.Discontinuity, flagDiscontinuity}, {p.SegmentEnd, flagSegmentEnd}, {p.Gap, flagGap}, {!p.PDT.IsZero(), flagPDT}} {
		if f.on {
			flags |= f.bit
		}
	}
	b = append(b, headerVersion, flags)
	b = binary.AppendUvarint(b, uint64(max(p.MSN, 0)))
	b = binary.AppendUvarint(b, uint64(max(p.Index, 0)))
	b = binary.AppendUvarint(b, uint64(max(p.Duration.Microseconds(), 0)))
	if p.SegmentEnd {
		b = binary.AppendUvarint(b, uint64(max(p.SegmentDuration.Microseconds(), 0)))
	}
	if !p.PDT.IsZero() {
		b = binary.AppendVarint(b, p.PDT.UnixMicro())
	}
	b = binary.AppendUvarint(b, uint64(max(p.DiscSeq, 0)))
	b = binary.BigEndian.AppendUint32(b, p.InitID)
	b = binary.AppendUvarint(b, uint64(max(p.PartTarget.Microseconds(), 0)))
	return binary.AppendUvarint(b, uint64(max(p.TargetDuration, 0)))
}

// headerReader decodes header fields, remembering the first error.
type headerReader struct {
	b   []byte
	err error
}

func (r *headerReader) uvarint(what string, limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	switch {
	case n <= 0:
		r.err = fmt.Errorf("%w: %s truncated", ErrBadHeader, what)
	case v > limit:
		r.err = fmt.Errorf("%w: %s %d above %d", ErrBadHeader, what, v, limit)
	default:
		r.b = r.b[n:]
	}
	return v
}

func (r *headerReader) micros(what string, limit time.Duration) time.Duration {
	return time.Duration(r.uvarint(what, uint64(limit.Microseconds()))) * time.Microsecond
}

// UnmarshalPartHeader decodes a header made by MarshalPartHeader. Data is
// left nil. Errors wrap ErrBadHeader.
func UnmarshalPartHeader(b []byte) (Part, error) {
	var p Part
	if len(b) > MaxHeaderSize {
		return p, fmt.Errorf("%w: %d bytes, limit %d", ErrBadHeader, len(b), MaxHeaderSize)
	}
	if len(b) < 2 || b[0] != headerVersion || b[1]&^flagsKnown != 0 {
		return p, fmt.Errorf("%w: unknown version or flags", ErrBadHeader)
	}
	flags := b[1]
	r := &headerReader{b: b[2:]}
	p.Independent, p.Discontinuity = flags&flagIndependent != 0, flags&flagDiscontinuity != 0
	p.SegmentEnd, p.Gap = flags&flagSegmentEnd != 0, flags&flagGap != 0
	p.MSN = int64(r.uvarint("msn", maxMSN))
	p.Index = int(r.uvarint("index", MaxPartsPerSegment-1))
	p.Duration = r.micros("duration", maxPartDuration)
	if p.SegmentEnd {
		p.SegmentDuration = r.micros("segment duration", maxSegmentDuration)
	}
	if flags&flagPDT != 0 {
		p.PDT = r.pdt()
	}
	p.DiscSeq = int64(r.uvarint("discontinuity sequence", maxMSN))
	p.InitID = r.u32()
	p.PartTarget = r.micros("part target", time.Minute)
	p.TargetDuration = int(r.uvarint("target duration", maxTargetDuration))
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrBadHeader, len(r.b))
	}
	if r.err != nil {
		return Part{}, r.err
	}
	return p, nil
}

func (r *headerReader) pdt() time.Time {
	if r.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || v < minPDT || v > maxPDT {
		r.err = fmt.Errorf("%w: bad program date time", ErrBadHeader)
		return time.Time{}
	}
	r.b = r.b[n:]
	return time.UnixMicro(v).UTC()
}

func (r *headerReader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.err = fmt.Errorf("%w: init id truncated", ErrBadHeader)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}
