package mp4

import (
	"encoding/binary"
	"math"
)

// wSegmentBrands are the styp brands: major first, then the compatible list.
var wSegmentBrands = [...]string{"msdh", "msdh", "cmfs", "cmff"}

// Sample flags (ISO/IEC 14496-12 8.8.3.1): sample_depends_on sits at bits
// 24-25, sample_is_non_sync_sample at bit 16.
const (
	wFlagsSync    uint32 = 2 << 24
	wFlagsNonSync uint32 = 1<<24 | 1<<16
)

// tfhd and trun flags.
const (
	wTfhdDefaultFlags  uint32 = 0x000020
	wTfhdBaseIsMoof    uint32 = 0x020000
	wTrunDataOffset    uint32 = 0x000001
	wTrunFirstFlags    uint32 = 0x000004
	wTrunDuration      uint32 = 0x000100
	wTrunSize          uint32 = 0x000200
	wTrunFlags         uint32 = 0x000400
	wTrunCompositionTO uint32 = 0x000800
)

// Fixed box sizes of a media segment.
const (
	wStypSize     = 8 + 4 + 4 + 4*(len(wSegmentBrands)-1)
	wMfhdSize     = 12 + 4
	wTfdtSize     = 12 + 8
	wMdatHdrSize  = 8
	wMdatHdrLarge = 16
)

// wSegPlan is what a first pass over the samples decides: how the flags
// are coded, whether composition offsets are needed and the box sizes.
type wSegPlan struct {
	tfhdFlags    uint32
	trunFlags    uint32
	defaultFlags uint32 // tfhd default_sample_flags, when present
	firstFlags   uint32 // trun first_sample_flags, when present
	ctoShift     int64  // subtracted from every CTO
	payload      uint64 // sum of the sample sizes
	moofSize     int
	mdatHdr      int
}

// wSampleFlags returns the sample_flags of s.
func wSampleFlags(s *Sample) uint32 {
	if s.Sync {
		return wFlagsSync
	}
	return wFlagsNonSync
}

// wCTO returns the composition offset written for s.
func wCTO(s *Sample, shift int64) int32 {
	v := int64(s.CTO) - shift
	return int32(max(min(v, math.MaxInt32), math.MinInt32))
}

// wPlanSegment makes one pass over samples and sizes the segment header.
func wPlanSegment(t *Track, samples []Sample) wSegPlan {
	p := wSegPlan{
		tfhdFlags: wTfhdBaseIsMoof,
		trunFlags: wTrunDataOffset | wTrunDuration | wTrunSize,
	}
	if t.Kind == KindVideo {
		p.ctoShift = t.EditOffset
	}
	restUniform := true // samples[1:] share one flags value
	hasCTO := false
	for i := range samples {
		s := &samples[i]
		p.payload += uint64(s.Size)
		if i > 1 && wSampleFlags(s) != wSampleFlags(&samples[1]) {
			restUniform = false
		}
		if !hasCTO && wCTO(s, p.ctoShift) != 0 {
			hasCTO = true
		}
	}
	p.planFlags(samples, restUniform)
	if hasCTO {
		p.trunFlags |= wTrunCompositionTO
	}
	p.size(len(samples))
	return p
}

// planFlags chooses between a tfhd default, a trun first_sample_flags plus
// a tfhd default, and per-sample flags.
func (p *wSegPlan) planFlags(samples []Sample, restUniform bool) {
	switch {
	case len(samples) == 0:
	case !restUniform:
		p.trunFlags |= wTrunFlags
	case len(samples) == 1:
		p.tfhdFlags |= wTfhdDefaultFlags
		p.defaultFlags = wSampleFlags(&samples[0])
	default:
		p.tfhdFlags |= wTfhdDefaultFlags
		p.defaultFlags = wSampleFlags(&samples[1])
		if first := wSampleFlags(&samples[0]); first != p.defaultFlags {
			p.trunFlags |= wTrunFirstFlags
			p.firstFlags = first
		}
	}
}

// size computes moofSize and mdatHdr for n samples.
func (p *wSegPlan) size(n int) {
	tfhd := 12 + 4
	if p.tfhdFlags&wTfhdDefaultFlags != 0 {
		tfhd += 4
	}
	perSample := 8
	if p.trunFlags&wTrunFlags != 0 {
		perSample += 4
	}
	if p.trunFlags&wTrunCompositionTO != 0 {
		perSample += 4
	}
	trun := 12 + 4 + 4 + n*perSample
	if p.trunFlags&wTrunFirstFlags != 0 {
		trun += 4
	}
	p.moofSize = 8 + wMfhdSize + 8 + tfhd + wTfdtSize + trun
	p.mdatHdr = wMdatHdrSize
	if p.payload > math.MaxUint32-wMdatHdrSize {
		p.mdatHdr = wMdatHdrLarge
	}
}

// headerSize is the length of styp, moof and the mdat header.
func (p *wSegPlan) headerSize() int {
	return wStypSize + p.moofSize + p.mdatHdr
}

// wAppendMoof appends the moof box described by p.
func wAppendMoof(dst []byte, seq uint32, t *Track, samples []Sample, p *wSegPlan) []byte {
	dst, moof := wboxOpen(dst, "moof")
	dst, mfhd := wfullOpen(dst, "mfhd", 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = wboxClose(dst, mfhd)

	dst, traf := wboxOpen(dst, "traf")
	dst, tfhd := wfullOpen(dst, "tfhd", 0, p.tfhdFlags)
	dst = binary.BigEndian.AppendUint32(dst, wTrackID(t))
	if p.tfhdFlags&wTfhdDefaultFlags != 0 {
		dst = binary.BigEndian.AppendUint32(dst, p.defaultFlags)
	}
	dst = wboxClose(dst, tfhd)

	var base uint64
	if len(samples) > 0 && samples[0].DTS > 0 {
		base = uint64(samples[0].DTS)
	}
	dst, tfdt := wfullOpen(dst, "tfdt", 1, 0)
	dst = binary.BigEndian.AppendUint64(dst, base)
	dst = wboxClose(dst, tfdt)

	dst = wAppendTrun(dst, samples, p)
	dst = wboxClose(dst, traf)
	return wboxClose(dst, moof)
}

// wAppendTrun appends a version 1 trun.
func wAppendTrun(dst []byte, samples []Sample, p *wSegPlan) []byte {
	dst, trun := wfullOpen(dst, "trun", 1, p.trunFlags)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(samples)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(int32(p.moofSize+p.mdatHdr)))
	if p.trunFlags&wTrunFirstFlags != 0 {
		dst = binary.BigEndian.AppendUint32(dst, p.firstFlags)
	}
	perFlags := p.trunFlags&wTrunFlags != 0
	withCTO := p.trunFlags&wTrunCompositionTO != 0
	for i := range samples {
		s := &samples[i]
		dst = binary.BigEndian.AppendUint32(dst, s.Duration)
		dst = binary.BigEndian.AppendUint32(dst, s.Size)
		if perFlags {
			dst = binary.BigEndian.AppendUint32(dst, wSampleFlags(s))
		}
		if withCTO {
			dst = binary.BigEndian.AppendUint32(dst, uint32(wCTO(s, p.ctoShift)))
		}
	}
	return wboxClose(dst, trun)
}

// wAppendMdatHeader appends the mdat header for payload bytes: the compact
// 8-byte form, or size 1 plus a 64-bit largesize when it does not fit.
func wAppendMdatHeader(dst []byte, payload uint64) []byte {
	if payload > math.MaxUint32-wMdatHdrSize {
		dst = binary.BigEndian.AppendUint32(dst, 1)
		dst = append(dst, "mdat"...)
		return binary.BigEndian.AppendUint64(dst, payload+wMdatHdrLarge)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(payload+wMdatHdrSize))
	return append(dst, "mdat"...)
}
