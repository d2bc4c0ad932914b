package mp4

import (
	"math/bits"
	"slices"
)

// trex holds the per-track defaults of a TrackExtendsBox.
type trex struct {
	duration, size, flags uint32
}

// tfhd flags (ISO/IEC 14496-12 8.8.7.1).
const (
	tfhdBaseDataOffset    = 0x000001
	tfhdSampleDescIndex   = 0x000002
	tfhdDefaultDuration   = 0x000008
	tfhdDefaultSize       = 0x000010
	tfhdDefaultFlags      = 0x000020
	tfhdDefaultBaseIsMoof = 0x020000
)

// trun flags (ISO/IEC 14496-12 8.8.8.1).
const (
	trunDataOffset       = 0x000001
	trunFirstSampleFlags = 0x000004
	trunDuration         = 0x000100
	trunSize             = 0x000200
	trunFlags            = 0x000400
	trunCTO              = 0x000800
)

// sampleIsNonSync is the sample_is_non_sync_sample bit of sample flags.
const sampleIsNonSync = 0x00010000

// parseMvex collects the trex boxes of mvex by track ID.
func parseMvex(body []byte, m map[uint32]trex) error {
	return eachChild(body, "moov/mvex", func(bx box) error {
		if bx.typ != "trex" {
			return nil
		}
		c := newCursor(bx.body, "moov/mvex/trex")
		c.fullBox()
		id := c.u32()
		c.skip(4)
		tx := trex{duration: c.u32(), size: c.u32(), flags: c.u32()}
		if c.err != nil {
			return c.err
		}
		m[id] = tx
		return nil
	})
}

// fragState is the running state while reading one traf.
type fragState struct {
	ts       *trackState
	def      trex
	base     int64
	dataEnd  int64
	path     string
	fileSize int64
}

// addMoof appends the samples of every traf of a moof body found at
// moofOff.
func (mv *moovState) addMoof(body []byte, moofOff, fileSize int64, path string) error {
	prevEnd := moofOff
	return eachChild(body, path, func(bx box) error {
		if bx.typ != "traf" {
			return nil
		}
		fs := &fragState{path: path + "/traf", fileSize: fileSize}
		end, err := mv.addTraf(fs, bx.body, moofOff, prevEnd)
		if err != nil {
			return err
		}
		prevEnd = end
		return nil
	})
}

// addTraf reads one traf and returns the end of the data it describes.
func (mv *moovState) addTraf(fs *fragState, body []byte, moofOff, prevEnd int64) (int64, error) {
	kids, err := children(body, fs.path)
	if err != nil {
		return 0, err
	}
	tfhd, err := need(kids, "tfhd", fs.path)
	if err != nil {
		return 0, err
	}
	if err := fs.parseTfhd(mv, tfhd.body, moofOff, prevEnd); err != nil || fs.ts == nil {
		return prevEnd, err // a track that was skipped
	}
	if tfdt, ok := kids["tfdt"]; ok {
		c := newCursor(tfdt.body, fs.path+"/tfdt")
		if v, _ := c.fullBox(); v == 1 {
			fs.ts.nextDTS = int64(c.u64())
		} else {
			fs.ts.nextDTS = int64(c.u32())
		}
		if c.err != nil {
			return 0, c.err
		}
	}
	fs.dataEnd = fs.base
	err = eachChild(body, fs.path, func(bx box) error {
		if bx.typ != "trun" {
			return nil
		}
		return mv.addTrun(fs, bx.body)
	})
	return fs.dataEnd, err
}

// parseTfhd resolves the track, the defaults and the base data offset.
func (fs *fragState) parseTfhd(mv *moovState, b []byte, moofOff, prevEnd int64) error {
	c := newCursor(b, fs.path+"/tfhd")
	_, flags := c.fullBox()
	id := c.u32()
	ts := mv.byID[id]
	if ts != nil {
		fs.def = ts.trex
	}
	fs.base = prevEnd
	if flags&tfhdDefaultBaseIsMoof != 0 {
		fs.base = moofOff
	}
	if flags&tfhdBaseDataOffset != 0 {
		fs.base = int64(c.u64())
	}
	if flags&tfhdSampleDescIndex != 0 {
		c.skip(4)
	}
	if flags&tfhdDefaultDuration != 0 {
		fs.def.duration = c.u32()
	}
	if flags&tfhdDefaultSize != 0 {
		fs.def.size = c.u32()
	}
	if flags&tfhdDefaultFlags != 0 {
		fs.def.flags = c.u32()
	}
	if c.err != nil {
		return c.err
	}
	if fs.base < 0 || fs.base > fs.fileSize {
		return malformed(fs.path+"/tfhd", "base data offset %d outside the %d byte file", fs.base, fs.fileSize)
	}
	fs.ts = ts
	return nil
}

// addTrun appends the samples of one trun.
func (mv *moovState) addTrun(fs *fragState, b []byte) error {
	p := fs.path + "/trun"
	c := newCursor(b, p)
	_, flags := c.fullBox()
	per := 4 * bits.OnesCount32(flags&(trunDuration|trunSize|trunFlags|trunCTO))
	count := c.u32()
	start := fs.dataEnd
	if flags&trunDataOffset != 0 {
		start = fs.base + int64(int32(c.u32()))
	}
	var first uint32
	hasFirst := flags&trunFirstSampleFlags != 0
	if hasFirst {
		first = c.u32()
	}
	if c.err != nil {
		return c.err
	}
	if err := mv.checkTrunCount(fs, c, count, per, flags, p); err != nil {
		return err
	}
	t := fs.ts.t
	t.Samples = slices.Grow(t.Samples, int(count))
	off, dts := start, fs.ts.nextDTS
	for i := 0; i < int(count); i++ {
		s := Sample{Offset: off, DTS: dts, Duration: fs.def.duration, Size: fs.def.size}
		sf := fs.def.flags
		if flags&trunDuration != 0 {
			s.Duration = c.u32()
		}
		if flags&trunSize != 0 {
			s.Size = c.u32()
		}
		if flags&trunFlags != 0 {
			sf = c.u32()
		}
		if i == 0 && hasFirst {
			sf = first
		}
		if flags&trunCTO != 0 {
			s.CTO = int32(c.u32()) // version 0 values above 2^31 are treated as negative
		}
		s.Sync = t.Kind == KindAudio || sf&sampleIsNonSync == 0
		if off < 0 || off+int64(s.Size) > fs.fileSize {
			return malformed(p, "sample %d at offset %d size %d runs past end of file (%d bytes)", i, off, s.Size, fs.fileSize)
		}
		t.Samples = append(t.Samples, s)
		off += int64(s.Size)
		dts += int64(s.Duration)
	}
	fs.ts.nextDTS = dts
	fs.dataEnd = off
	return c.err
}

// checkTrunCount bounds the sample count of a trun before anything is
// allocated for it: by the trun bytes when samples have per-sample fields,
// and for every trun by the file size (each fragment sample needs at least
// one byte of media data or four bytes of trun).
func (mv *moovState) checkTrunCount(fs *fragState, c *cursor, count uint32, per int, flags uint32, p string) error {
	if per > 0 && uint64(count)*uint64(per) > uint64(c.left()) {
		return malformed(p, "sample_count %d needs %d bytes, box has %d", count, uint64(count)*uint64(per), c.left())
	}
	if per == 0 && count > 0 && fs.def.size == 0 {
		return malformed(p, "%d samples without sizes", count)
	}
	mv.fragSamples += int64(count)
	if mv.fragSamples > fs.fileSize {
		return malformed(p, "%d fragment samples in a %d byte file", mv.fragSamples, fs.fileSize)
	}
	return nil
}
