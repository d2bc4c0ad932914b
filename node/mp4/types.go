// Package mp4 reads ISO Base Media File Format files (ISO/IEC 14496-12, with
// the AVC/HEVC file format of ISO/IEC 14496-15 and the MPEG-4 audio sample
// entries of ISO/IEC 14496-14) and writes CMAF headers and fragments
// (ISO/IEC 23000-19).
//
// The reader touches only the byte ranges it needs through an io.ReaderAt:
// box headers, the moov box (or the moof boxes of a fragmented file) and
// nothing of mdat. The writer is byte-for-byte deterministic: the same Track
// and samples always give the same bytes.
package mp4

import "errors"

// Errors returned by the reader. Callers match them with errors.Is; the
// wrapped message says where in the file the problem is.
var (
	// ErrMalformed means the bytes do not form a valid ISO-BMFF structure
	// (truncated box, impossible size, inconsistent sample tables).
	ErrMalformed = errors.New("mp4: malformed file")
	// ErrUnsupported means the file is well formed but uses a codec or
	// feature classmesh does not package (encrypted entries, unknown codec).
	ErrUnsupported = errors.New("mp4: unsupported")
	// ErrNoTracks means no packageable audio or video track was found.
	ErrNoTracks = errors.New("mp4: no audio or video track")
)

// TrackKind tells video from audio.
type TrackKind uint8

// Track kinds.
const (
	KindVideo TrackKind = iota + 1
	KindAudio
)

func (k TrackKind) String() string {
	switch k {
	case KindVideo:
		return "video"
	case KindAudio:
		return "audio"
	}
	return "unknown"
}

// File is what the reader learns from an MP4 file.
type File struct {
	// MajorBrand is the ftyp major brand ("isom", "mp42", ...); empty when
	// the file has no ftyp box.
	MajorBrand string
	// Fragmented is true when samples were found in moof boxes.
	Fragmented bool
	// Tracks are the audio and video tracks in file order. Other tracks
	// (text, hint, timecode) are skipped.
	Tracks []*Track
}

// Track is one audio or video track with its complete sample table.
type Track struct {
	// ID is the tkhd track_ID.
	ID uint32
	// Kind is video or audio.
	Kind TrackKind
	// Timescale is the mdhd timescale (ticks per second). Never zero.
	Timescale uint32
	// Language is the ISO-639-2/T code from mdhd ("und" when unset).
	Language string
	// Format is the sample entry four-character code: "avc1", "avc3",
	// "hvc1", "hev1" or "mp4a".
	Format string
	// SampleEntry is the complete sample entry box (header and body, with
	// its avcC/hvcC/esds/btrt/pasp/colr children) exactly as found in stsd.
	// The writer copies it verbatim into the init segment.
	SampleEntry []byte
	// Codec is the RFC 6381 "codecs" value, e.g. "avc1.64001F",
	// "hvc1.1.6.L93.B0" or "mp4a.40.2", computed from avcC/hvcC/esds.
	Codec string
	// Width and Height are the coded size from the visual sample entry.
	Width, Height uint16
	// SampleRate and Channels come from the audio sample entry (for AAC the
	// AudioSpecificConfig wins when it disagrees).
	SampleRate uint32
	Channels   uint16
	// EditOffset is the media time, in Timescale ticks, at which
	// presentation starts: the media_time of the first non-empty entry of
	// the edit list, or 0 without one. For video with B-frames it is the
	// composition delay of the first frame; for AAC it is the encoder
	// priming. The CMAF writer subtracts it from video composition offsets
	// (trun version 1) so that the first frame is presented at its decode
	// time.
	EditOffset int64
	// Samples in decode order.
	Samples []Sample
}

// Sample is one access unit.
type Sample struct {
	// Offset is the absolute byte offset of the sample data in the file.
	Offset int64
	// DTS is the decode time in Timescale ticks. The first sample of a
	// progressive file has DTS 0; fragmented files keep their tfdt times.
	DTS int64
	// Size is the sample's size in bytes.
	Size uint32
	// Duration is the decode duration in Timescale ticks.
	Duration uint32
	// CTO is the composition offset: PTS = DTS + CTO (may be negative with
	// ctts version 1 or trun version 1).
	CTO int32
	// Sync is true for sync samples (keyframes; every audio sample).
	Sync bool
}

// Duration returns the decode duration of the whole track in Timescale
// ticks: the end of the last sample minus the start of the first.
func (t *Track) Duration() int64 {
	if len(t.Samples) == 0 {
		return 0
	}
	first, last := t.Samples[0], t.Samples[len(t.Samples)-1]
	return last.DTS + int64(last.Duration) - first.DTS
}
