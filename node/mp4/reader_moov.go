package mp4

import (
	"fmt"
	"strings"
)

// trackState is a track being assembled plus what fragments need.
type trackState struct {
	t *Track
	// trex holds the movie-extends defaults for this track, if any.
	trex trex
	// nextDTS is the decode time after the last sample appended so far.
	nextDTS int64
}

// moovState is the parsed moov: supported tracks and why others were
// skipped.
type moovState struct {
	list    []*trackState
	byID    map[uint32]*trackState
	skipped []string
	// fragSamples counts the samples read from moof boxes, to bound them.
	fragSamples int64
}

// parseMoov parses the moov body.
func parseMoov(body []byte, fileSize int64) (*moovState, error) {
	mv := &moovState{byID: make(map[uint32]*trackState)}
	trexs := make(map[uint32]trex)
	n := 0
	err := eachChild(body, "moov", func(bx box) error {
		switch bx.typ {
		case "trak":
			path := fmt.Sprintf("moov/trak[%d]", n)
			n++
			return mv.addTrak(bx.body, path, fileSize)
		case "mvex":
			return parseMvex(bx.body, trexs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id, tx := range trexs {
		if ts, ok := mv.byID[id]; ok {
			ts.trex = tx
		}
	}
	return mv, nil
}

// addTrak parses one trak and keeps it when it is a supported audio or
// video track.
func (mv *moovState) addTrak(body []byte, path string, fileSize int64) error {
	t, reason, err := parseTrak(body, path, fileSize)
	if err != nil {
		return err
	}
	if reason != "" {
		mv.skipped = append(mv.skipped, reason)
		return nil
	}
	if t == nil {
		return nil
	}
	if _, dup := mv.byID[t.ID]; dup {
		return malformed(path+"/tkhd", "duplicate track_ID %d", t.ID)
	}
	ts := &trackState{t: t}
	if n := len(t.Samples); n > 0 {
		last := t.Samples[n-1]
		ts.nextDTS = last.DTS + int64(last.Duration)
	}
	mv.list = append(mv.list, ts)
	mv.byID[t.ID] = ts
	return nil
}

// finish reports when nothing packageable was found.
func (mv *moovState) finish() error {
	if len(mv.list) > 0 {
		return nil
	}
	if len(mv.skipped) > 0 {
		return unsupported("%s", strings.Join(mv.skipped, "; "))
	}
	return ErrNoTracks
}

// tracks returns the kept tracks in file order.
func (mv *moovState) tracks() []*Track {
	out := make([]*Track, len(mv.list))
	for i, ts := range mv.list {
		out[i] = ts.t
	}
	return out
}

// parseTrak parses a trak body. It returns (nil, "", nil) for tracks that
// are neither audio nor video, and a non-empty reason for audio or video
// tracks whose codec is not supported.
func parseTrak(body []byte, path string, fileSize int64) (*Track, string, error) {
	trak, err := children(body, path)
	if err != nil {
		return nil, "", err
	}
	t := &Track{}
	tkhd, ok := trak["tkhd"]
	if !ok {
		return nil, "", malformed(path, "missing tkhd")
	}
	if t.ID, err = parseTkhd(tkhd.body, path+"/tkhd"); err != nil {
		return nil, "", err
	}
	mdia, err := need(trak, "mdia", path)
	if err != nil {
		return nil, "", err
	}
	stbl, err := parseMdia(t, mdia.body, path+"/mdia")
	if err != nil || t.Kind == 0 {
		return nil, "", err
	}
	stblPath := path + "/mdia/minf/stbl"
	stsd, err := need(stbl, "stsd", stblPath)
	if err != nil {
		return nil, "", err
	}
	reason, err := parseStsd(t, stsd.body, stblPath+"/stsd")
	if err != nil || reason != "" {
		return nil, reason, err
	}
	if edts, ok := trak["edts"]; ok {
		if t.EditOffset, err = parseEdts(edts.body, path+"/edts"); err != nil {
			return nil, "", err
		}
	}
	if t.Samples, err = buildSamples(stbl, stblPath, fileSize, t.Kind == KindAudio); err != nil {
		return nil, "", err
	}
	return t, "", nil
}

// need returns the child typ of m or a malformed error.
func need(m map[string]box, typ, path string) (box, error) {
	bx, ok := m[typ]
	if !ok {
		return box{}, malformed(path, "missing %s", typ)
	}
	return bx, nil
}

// parseTkhd returns the track_ID.
func parseTkhd(b []byte, path string) (uint32, error) {
	c := newCursor(b, path)
	if v, _ := c.fullBox(); v == 1 {
		c.skip(16)
	} else {
		c.skip(8)
	}
	id := c.u32()
	return id, c.err
}

// parseMdia fills Kind, Timescale and Language and returns the stbl
// children. Kind stays zero for tracks that are not audio or video.
func parseMdia(t *Track, body []byte, path string) (map[string]box, error) {
	mdia, err := children(body, path)
	if err != nil {
		return nil, err
	}
	hdlr, err := need(mdia, "hdlr", path)
	if err != nil {
		return nil, err
	}
	c := newCursor(hdlr.body, path+"/hdlr")
	c.fullBox()
	c.skip(4)
	handler := fourCC(c.take(4))
	if c.err != nil {
		return nil, c.err
	}
	switch handler {
	case "vide":
		t.Kind = KindVideo
	case "soun":
		t.Kind = KindAudio
	default:
		return nil, nil
	}
	mdhd, err := need(mdia, "mdhd", path)
	if err != nil {
		return nil, err
	}
	if err := parseMdhd(t, mdhd.body, path+"/mdhd"); err != nil {
		return nil, err
	}
	minf, err := need(mdia, "minf", path)
	if err != nil {
		return nil, err
	}
	mm, err := children(minf.body, path+"/minf")
	if err != nil {
		return nil, err
	}
	stbl, err := need(mm, "stbl", path+"/minf")
	if err != nil {
		return nil, err
	}
	return children(stbl.body, path+"/minf/stbl")
}

// parseMdhd reads the timescale and language.
func parseMdhd(t *Track, b []byte, path string) error {
	c := newCursor(b, path)
	v, _ := c.fullBox()
	if v == 1 {
		c.skip(16)
		t.Timescale = c.u32()
		c.skip(8)
	} else {
		c.skip(8)
		t.Timescale = c.u32()
		c.skip(4)
	}
	t.Language = language(c.u16())
	if c.err != nil {
		return c.err
	}
	if t.Timescale == 0 {
		return malformed(path, "timescale is 0")
	}
	return nil
}

// language decodes the packed ISO-639-2/T code of mdhd.
func language(v uint16) string {
	b := []byte{byte(v>>10&0x1f) + 0x60, byte(v>>5&0x1f) + 0x60, byte(v&0x1f) + 0x60}
	for _, ch := range b {
		if ch < 'a' || ch > 'z' {
			return "und"
		}
	}
	return string(b)
}

// parseEdts returns the media_time of the first non-empty edit.
func parseEdts(body []byte, path string) (int64, error) {
	edts, err := children(body, path)
	if err != nil {
		return 0, err
	}
	elst, ok := edts["elst"]
	if !ok {
		return 0, nil
	}
	c := newCursor(elst.body, path+"/elst")
	v, _ := c.fullBox()
	size := 12
	if v == 1 {
		size = 20
	}
	n := c.count(size)
	for i := 0; i < n; i++ {
		var mt int64
		if v == 1 {
			c.skip(8)
			mt = int64(c.u64())
		} else {
			c.skip(4)
			mt = int64(int32(c.u32()))
		}
		c.skip(4)
		if mt >= 0 {
			return mt, c.err
		}
		if mt != -1 {
			return 0, malformed(path+"/elst", "entry %d: media_time %d", i, mt)
		}
	}
	return 0, c.err
}
