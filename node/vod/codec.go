package vod

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/classmesh/classmesh/node/mp4"
)

// ErrCorruptIndex means a persisted index record could not be decoded.
// The library rebuilds such records from the source.
var ErrCorruptIndex = errors.New("vod: corrupt index record")

// Record format version 1 (all integers varint, see DESIGN.md):
//
//	file record:    magic "CMF" version 1, identity, brand, fragmented,
//	                track count, tracks
//	track:          id, kind, timescale, language, format, sample entry,
//	                codec, width, height, sample rate, channels,
//	                edit offset, sample count, samples
//	sample:         offset gap (offset - end of previous sample, zigzag),
//	                DTS gap (DTS - end of previous sample, zigzag), size,
//	                duration delta (zigzag), zigzag(CTO)<<1 | sync
//	segment record: magic "CMS" version 1, fingerprint, rendition count,
//	                per rendition: id, segment count, per segment:
//	                sample count, size
const (
	fileMagic     = "CMF\x01"
	segmentsMagic = "CMS\x01"
	// maxRecordString bounds every string and byte field.
	maxRecordString = 1 << 20
)

// enc appends varint-coded fields.
type enc struct{ b []byte }

func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// dec reads varint-coded fields; the first error sticks and later reads
// return zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorruptIndex, what)
	}
}

func (d *dec) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bounded reads a uvarint that must not exceed limit.
func (d *dec) bounded(what string, limit uint64) uint64 {
	v := d.uvarint(what)
	if v > limit {
		d.fail(what + " out of range")
		return 0
	}
	return v
}

func (d *dec) bytes(what string) []byte {
	n := d.bounded(what, maxRecordString)
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < n {
		d.fail(what + " truncated")
		return nil
	}
	p := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return p
}

func (d *dec) str(what string) string { return string(d.bytes(what)) }

func (d *dec) magic(m string) {
	if len(d.b) < len(m) || string(d.b[:len(m)]) != m {
		d.fail("bad magic or version")
		return
	}
	d.b = d.b[len(m):]
}

// count reads an element count; each element takes at least minBytes, so
// a count larger than the remaining bytes allow is corrupt (this bounds
// allocations on hostile input).
func (d *dec) count(what string, minBytes int) int {
	n := d.uvarint(what)
	if d.err == nil && n > uint64(len(d.b)/minBytes) {
		d.fail(what + " exceeds record")
		return 0
	}
	return int(n)
}

// encodeFile encodes a file index record.
func encodeFile(identity string, f *mp4.File) []byte {
	e := enc{b: make([]byte, 0, 256)}
	e.b = append(e.b, fileMagic...)
	e.str(identity)
	e.str(f.MajorBrand)
	e.uvarint(b2u(f.Fragmented))
	e.uvarint(uint64(len(f.Tracks)))
	for _, t := range f.Tracks {
		encodeTrack(&e, t)
	}
	return e.b
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func encodeTrack(e *enc, t *mp4.Track) {
	e.uvarint(uint64(t.ID))
	e.uvarint(uint64(t.Kind))
	e.uvarint(uint64(t.Timescale))
	e.str(t.Language)
	e.str(t.Format)
	e.bytes(t.SampleEntry)
	e.str(t.Codec)
	e.uvarint(uint64(t.Width))
	e.uvarint(uint64(t.Height))
	e.uvarint(uint64(t.SampleRate))
	e.uvarint(uint64(t.Channels))
	e.varint(t.EditOffset)
	e.uvarint(uint64(len(t.Samples)))
	var end, dtsEnd int64
	var dur uint32
	for _, s := range t.Samples {
		e.varint(s.Offset - end)
		e.varint(s.DTS - dtsEnd)
		e.uvarint(uint64(s.Size))
		e.varint(int64(s.Duration) - int64(dur))
		e.uvarint(uint64(zigzag(int64(s.CTO)))<<1 | b2u(s.Sync))
		end, dtsEnd, dur = s.Offset+int64(s.Size), s.DTS+int64(s.Duration), s.Duration
	}
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// decodeFile decodes a file index record into the source identity
// and the file's tracks. It never panics and bounds its allocations by the
// record's length; any inconsistency returns an error wrapping
// ErrCorruptIndex.
func decodeFile(b []byte) (identity string, f *mp4.File, err error) {
	d := &dec{b: b}
	d.magic(fileMagic)
	identity = d.str("identity")
	f = &mp4.File{MajorBrand: d.str("brand"), Fragmented: d.bounded("fragmented", 1) == 1}
	n := d.count("track count", 16)
	for i := 0; i < n && d.err == nil; i++ {
		f.Tracks = append(f.Tracks, decodeTrack(d))
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return "", nil, d.err
	}
	return identity, f, nil
}

func decodeTrack(d *dec) *mp4.Track {
	t := &mp4.Track{
		ID:        uint32(d.bounded("track id", 1<<32-1)),
		Kind:      mp4.TrackKind(d.bounded("kind", uint64(mp4.KindAudio))),
		Timescale: uint32(d.bounded("timescale", 1<<32-1)),
	}
	if d.err == nil && (t.Kind == 0 || t.Timescale == 0) {
		d.fail("zero kind or timescale")
	}
	t.Language = d.str("language")
	t.Format = d.str("format")
	t.SampleEntry = d.bytes("sample entry")
	t.Codec = d.str("codec")
	t.Width = uint16(d.bounded("width", 1<<16-1))
	t.Height = uint16(d.bounded("height", 1<<16-1))
	t.SampleRate = uint32(d.bounded("sample rate", 1<<32-1))
	t.Channels = uint16(d.bounded("channels", 1<<16-1))
	t.EditOffset = d.varint("edit offset")
	n := d.count("sample count", 5)
	if d.err != nil {
		return t
	}
	t.Samples = make([]mp4.Sample, n)
	var end, dtsEnd int64
	var dur uint32
	for i := range t.Samples {
		s := &t.Samples[i]
		s.Offset = end + d.varint("offset")
		s.DTS = dtsEnd + d.varint("dts")
		s.Size = uint32(d.bounded("size", 1<<32-1))
		s.Duration = uint32(int64(dur) + d.varint("duration"))
		cs := d.uvarint("cto")
		s.CTO, s.Sync = int32(unzigzag(cs>>1)), cs&1 == 1
		if d.err != nil {
			return t
		}
		end, dtsEnd, dur = s.Offset+int64(s.Size), s.DTS+int64(s.Duration), s.Duration
	}
	return t
}

// segmentRecord is the persisted segmentation of one asset.
type segmentRecord struct {
	// fingerprint is the asset fingerprint the record was built for.
	fingerprint string
	// renditions maps a rendition ID to its segments' sample counts and
	// sizes.
	renditions map[string][]segEntry
	order      []string
}

type segEntry struct {
	count int
	size  int64
}

func encodeSegments(r *segmentRecord) []byte {
	e := enc{}
	e.b = append(e.b, segmentsMagic...)
	e.str(r.fingerprint)
	e.uvarint(uint64(len(r.order)))
	for _, id := range r.order {
		e.str(id)
		segs := r.renditions[id]
		e.uvarint(uint64(len(segs)))
		for _, s := range segs {
			e.uvarint(uint64(s.count))
			e.uvarint(uint64(s.size))
		}
	}
	return e.b
}

func decodeSegments(b []byte) (*segmentRecord, error) {
	d := &dec{b: b}
	d.magic(segmentsMagic)
	r := &segmentRecord{fingerprint: d.str("fingerprint"), renditions: map[string][]segEntry{}}
	n := d.count("rendition count", 2)
	for i := 0; i < n && d.err == nil; i++ {
		id := d.str("rendition id")
		m := d.count("segment count", 2)
		segs := make([]segEntry, 0, m)
		for j := 0; j < m && d.err == nil; j++ {
			c := d.bounded("sample count", 1<<31-1)
			sz := d.bounded("segment size", 1<<62)
			segs = append(segs, segEntry{count: int(c), size: int64(sz)})
		}
		r.renditions[id] = segs
		r.order = append(r.order, id)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}
