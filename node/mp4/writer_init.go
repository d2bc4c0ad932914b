package mp4

import "encoding/binary"

// wUnityMatrix is the identity transformation matrix of mvhd and tkhd
// (16.16 fixed point, except the last column which is 2.30).
var wUnityMatrix = [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}

// wboxOpen appends a box header with a placeholder size and returns the
// extended slice and the offset of the box, to be passed to wboxClose.
func wboxOpen(dst []byte, typ string) ([]byte, int) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = append(dst, typ[:4]...)
	return dst, start
}

// wfullOpen is wboxOpen for a full box: it also appends version and flags.
func wfullOpen(dst []byte, typ string, version uint8, flags uint32) ([]byte, int) {
	dst, start := wboxOpen(dst, typ)
	return binary.BigEndian.AppendUint32(dst, uint32(version)<<24|flags&0xFFFFFF), start
}

// wboxClose patches the size of the box opened at start.
func wboxClose(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst
}

// wAppendZeros appends n zero bytes.
func wAppendZeros(dst []byte, n int) []byte {
	return append(dst, make([]byte, n)...) // the compiler does not allocate here
}

// wAppendMatrix appends the unity matrix.
func wAppendMatrix(dst []byte) []byte {
	for _, v := range wUnityMatrix {
		dst = binary.BigEndian.AppendUint32(dst, v)
	}
	return dst
}

// wTrackID is the track_ID written for t: t.ID, or 1 when it is zero (0 is
// not a valid track_ID).
func wTrackID(t *Track) uint32 {
	if t.ID == 0 {
		return 1
	}
	return t.ID
}

// wPackLanguage packs an ISO-639-2/T code into the 15 bits of mdhd: three
// 5-bit values, each letter minus 0x60. Anything that is not three
// lower-case ASCII letters is written as "und".
func wPackLanguage(lang string) uint16 {
	const und = ('u'-0x60)<<10 | ('n'-0x60)<<5 | ('d' - 0x60)
	if len(lang) != 3 {
		return und
	}
	var v uint16
	for i := range 3 {
		c := lang[i]
		if c < 'a' || c > 'z' {
			return und
		}
		v = v<<5 | uint16(c-0x60)
	}
	return v
}

// wAppendMvhd appends a version 0 mvhd.
func wAppendMvhd(dst []byte, t *Track) []byte {
	timescale := t.Timescale
	if timescale == 0 {
		timescale = 1000
	}
	dst, start := wfullOpen(dst, "mvhd", 0, 0)
	dst = wAppendZeros(dst, 8) // creation_time, modification_time
	dst = binary.BigEndian.AppendUint32(dst, timescale)
	dst = binary.BigEndian.AppendUint32(dst, 0)          // duration
	dst = binary.BigEndian.AppendUint32(dst, 0x00010000) // rate 1.0
	dst = binary.BigEndian.AppendUint16(dst, 0x0100)     // volume 1.0
	dst = wAppendZeros(dst, 2+8)                         // reserved
	dst = wAppendMatrix(dst)
	dst = wAppendZeros(dst, 24) // pre_defined
	dst = binary.BigEndian.AppendUint32(dst, wTrackID(t)+1)
	return wboxClose(dst, start)
}

// wAppendTkhd appends a version 0 tkhd with flags enabled|in_movie|in_preview.
func wAppendTkhd(dst []byte, t *Track) []byte {
	dst, start := wfullOpen(dst, "tkhd", 0, 0x000003)
	dst = wAppendZeros(dst, 8) // creation_time, modification_time
	dst = binary.BigEndian.AppendUint32(dst, wTrackID(t))
	dst = wAppendZeros(dst, 4+4+8+2+2) // reserved, duration, reserved, layer, alternate_group
	var volume uint16
	if t.Kind == KindAudio {
		volume = 0x0100
	}
	dst = binary.BigEndian.AppendUint16(dst, volume)
	dst = wAppendZeros(dst, 2) // reserved
	dst = wAppendMatrix(dst)
	var w, h uint32
	if t.Kind == KindVideo {
		w, h = uint32(t.Width)<<16, uint32(t.Height)<<16
	}
	dst = binary.BigEndian.AppendUint32(dst, w)
	dst = binary.BigEndian.AppendUint32(dst, h)
	return wboxClose(dst, start)
}

// wAppendMdhd appends a version 0 mdhd.
func wAppendMdhd(dst []byte, t *Track) []byte {
	dst, start := wfullOpen(dst, "mdhd", 0, 0)
	dst = wAppendZeros(dst, 8) // creation_time, modification_time
	dst = binary.BigEndian.AppendUint32(dst, t.Timescale)
	dst = binary.BigEndian.AppendUint32(dst, 0) // duration
	dst = binary.BigEndian.AppendUint16(dst, wPackLanguage(t.Language))
	dst = binary.BigEndian.AppendUint16(dst, 0) // pre_defined
	return wboxClose(dst, start)
}

// wAppendHdlr appends the handler box: "vide" for video, "soun" otherwise.
func wAppendHdlr(dst []byte, t *Track) []byte {
	handler := "soun"
	if t.Kind == KindVideo {
		handler = "vide"
	}
	dst, start := wfullOpen(dst, "hdlr", 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, 0) // pre_defined
	dst = append(dst, handler...)
	dst = wAppendZeros(dst, 12) // reserved
	dst = append(dst, wHandlerName...)
	dst = append(dst, 0)
	return wboxClose(dst, start)
}

// wAppendMinf appends minf: the media header, dinf and an stbl with the
// sample entry and empty sample tables.
func wAppendMinf(dst []byte, t *Track) []byte {
	dst, minf := wboxOpen(dst, "minf")
	if t.Kind == KindVideo {
		var vmhd int
		dst, vmhd = wfullOpen(dst, "vmhd", 0, 1)
		dst = wAppendZeros(dst, 8) // graphicsmode, opcolor
		dst = wboxClose(dst, vmhd)
	} else {
		var smhd int
		dst, smhd = wfullOpen(dst, "smhd", 0, 0)
		dst = wAppendZeros(dst, 4) // balance, reserved
		dst = wboxClose(dst, smhd)
	}
	dst = wAppendDinf(dst)
	dst = wAppendStbl(dst, t)
	return wboxClose(dst, minf)
}

// wAppendDinf appends dinf/dref with one self-contained "url " entry.
func wAppendDinf(dst []byte) []byte {
	dst, dinf := wboxOpen(dst, "dinf")
	dst, dref := wfullOpen(dst, "dref", 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, 1) // entry_count
	dst, url := wfullOpen(dst, "url ", 0, 1)
	dst = wboxClose(dst, url)
	dst = wboxClose(dst, dref)
	return wboxClose(dst, dinf)
}

// wAppendStbl appends stbl with stsd (t.SampleEntry verbatim) and empty
// stts, stsc, stsz and stco.
func wAppendStbl(dst []byte, t *Track) []byte {
	dst, stbl := wboxOpen(dst, "stbl")
	dst, stsd := wfullOpen(dst, "stsd", 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, 1) // entry_count
	dst = append(dst, t.SampleEntry...)
	dst = wboxClose(dst, stsd)
	for _, typ := range [...]string{"stts", "stsc"} {
		var b int
		dst, b = wfullOpen(dst, typ, 0, 0)
		dst = binary.BigEndian.AppendUint32(dst, 0) // entry_count
		dst = wboxClose(dst, b)
	}
	dst, stsz := wfullOpen(dst, "stsz", 0, 0)
	dst = wAppendZeros(dst, 8) // sample_size, sample_count
	dst = wboxClose(dst, stsz)
	dst, stco := wfullOpen(dst, "stco", 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, 0) // entry_count
	dst = wboxClose(dst, stco)
	return wboxClose(dst, stbl)
}

// wAppendMvex appends mvex/trex with sample description 1 and zero defaults.
func wAppendMvex(dst []byte, t *Track) []byte {
	dst, mvex := wboxOpen(dst, "mvex")
	dst, trex := wfullOpen(dst, "trex", 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, wTrackID(t))
	dst = binary.BigEndian.AppendUint32(dst, 1) // default_sample_description_index
	dst = wAppendZeros(dst, 12)                 // default duration, size, flags
	dst = wboxClose(dst, trex)
	return wboxClose(dst, mvex)
}
