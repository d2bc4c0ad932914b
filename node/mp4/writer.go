package mp4

import (
	"encoding/binary"
	"slices"
)

// CMAF header layout choices.
//
// The ftyp major brand is "iso6" (ISO/IEC 14496-12 sixth edition: needed for
// tfdt version 1 and signed trun version 1 composition offsets), minor
// version 0, compatible brands "iso6", "cmfc" (CMAF track/header,
// ISO/IEC 23000-19) and "mp41" (for older players that look for it).
var wInitBrands = [...]string{"iso6", "cmfc", "mp41"}

// wHandlerName is the hdlr name written in every init segment.
const wHandlerName = "classmesh"

// AppendInit appends a CMAF header for the single track t to dst and returns
// the extended slice: ftyp, then moov with mvhd, one trak (tkhd, mdia with
// mdhd, hdlr, minf with vmhd/smhd, dinf, and an stbl holding t.SampleEntry
// and empty sample tables) and mvex/trex. The output depends only on t.
//
// Details: the ftyp major brand is "iso6" with compatible brands "iso6",
// "cmfc" and "mp41". All times and durations are 0 (the duration of a
// fragmented presentation comes from the fragments). mvhd uses t.Timescale
// (1000 when it is zero), tkhd has flags enabled|in_movie|in_preview, volume
// 1.0 for audio and the 16.16 width/height for video, mdhd packs t.Language
// ("und" when it is not three lower-case letters), the hdlr name is
// "classmesh". No edit list is written: video composition offsets are
// shifted in trun instead (see AppendSegmentHeader). A zero t.ID is written
// as track 1, consistently with AppendSegmentHeader.
func AppendInit(dst []byte, t *Track) []byte {
	dst = slices.Grow(dst, 640+len(t.SampleEntry))
	dst = wAppendFtyp(dst, "ftyp", wInitBrands[0], wInitBrands[:])

	dst, moov := wboxOpen(dst, "moov")
	dst = wAppendMvhd(dst, t)
	dst, trak := wboxOpen(dst, "trak")
	dst = wAppendTkhd(dst, t)
	dst, mdia := wboxOpen(dst, "mdia")
	dst = wAppendMdhd(dst, t)
	dst = wAppendHdlr(dst, t)
	dst = wAppendMinf(dst, t)
	dst = wboxClose(dst, mdia)
	dst = wboxClose(dst, trak)
	dst = wAppendMvex(dst, t)
	return wboxClose(dst, moov)
}

// AppendSegmentHeader appends the start of a CMAF media segment for the
// samples of t: styp, moof (mfhd with seq, traf with tfhd, a 64-bit tfdt
// equal to samples[0].DTS, trun with sizes, durations, flags and composition
// offsets) and the 8- or 16-byte mdat header. The caller then writes the
// sample bytes in order; the total segment size is the returned header
// length plus the sum of the sample sizes. seq is the 1-based segment number.
//
// Details: styp has major brand "msdh" and compatible brands "msdh" (DASH
// media segment), "cmfs" (CMAF segment) and "cmff" (CMAF fragment: each
// segment holds exactly one fragment); "msix" is not claimed since no sidx
// is written. tfhd sets default-base-is-moof, so the trun data_offset counts
// from the first byte of moof to the first payload byte of mdat. trun is
// version 1 with per-sample durations and sizes; sample flags are written as
// a single tfhd default when all samples agree, as trun first_sample_flags
// plus a tfhd default when only the first sample differs (the usual
// keyframe-led GOP), and per sample otherwise. Sync samples are flagged
// sample_depends_on=2, others sample_depends_on=1 and
// sample_is_non_sync_sample=1.
//
// For video, the composition offset written is sample.CTO - t.EditOffset
// (clamped to the signed 32-bit range), so the first presented frame starts
// at its decode time, as the source edit list intended. For audio CTO is
// written unchanged and the edit list (AAC encoder priming) is not applied:
// players present the priming samples. Composition offsets are omitted when
// they are all zero.
//
// A negative samples[0].DTS cannot be expressed in tfdt and is written as 0;
// it does not happen with the reader's tracks. With no samples the segment
// has an empty trun, tfdt 0 and an empty mdat.
func AppendSegmentHeader(dst []byte, seq uint32, t *Track, samples []Sample) []byte {
	p := wPlanSegment(t, samples)
	dst = slices.Grow(dst, p.headerSize())
	dst = wAppendFtyp(dst, "styp", wSegmentBrands[0], wSegmentBrands[1:])
	dst = wAppendMoof(dst, seq, t, samples, &p)
	return wAppendMdatHeader(dst, p.payload)
}

// SegmentHeaderSize returns len(AppendSegmentHeader(nil, seq, t, samples))
// for any seq without building the header, so callers can announce the
// segment's Content-Length (this size plus the sum of the sample sizes)
// before writing it.
func SegmentHeaderSize(t *Track, samples []Sample) int {
	p := wPlanSegment(t, samples)
	return p.headerSize()
}

// wAppendFtyp appends an ftyp or styp box with minor version 0.
func wAppendFtyp(dst []byte, typ, major string, compatible []string) []byte {
	dst, start := wboxOpen(dst, typ)
	dst = append(dst, major...)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	for _, b := range compatible {
		dst = append(dst, b...)
	}
	return wboxClose(dst, start)
}
