package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrMedia reports bytes that are not the fragment or init segment expected.
var ErrMedia = errors.New("liveload: bad media")

// maxBoxDepth bounds the recursion into container boxes.
const maxBoxDepth = 8

// containers are the boxes walked into while looking for a child.
var containers = map[string]bool{"moov": true, "trak": true, "mdia": true, "moof": true, "traf": true}

// findBox returns the payload of the first box named path[len-1] reached
// through the container boxes path[:len-1], searching data top-down.
func findBox(data []byte, path ...string) ([]byte, bool) {
	return findBoxDepth(data, path, 0)
}

func findBoxDepth(data []byte, path []string, depth int) ([]byte, bool) {
	if depth > maxBoxDepth || len(path) == 0 {
		return nil, false
	}
	for len(data) >= 8 {
		size := uint64(binary.BigEndian.Uint32(data))
		typ, hdr := string(data[4:8]), uint64(8)
		if size == 1 {
			if len(data) < 16 {
				return nil, false
			}
			size, hdr = binary.BigEndian.Uint64(data[8:]), 16
		} else if size == 0 {
			size = uint64(len(data))
		}
		if size < hdr || size > uint64(len(data)) {
			return nil, false
		}
		body := data[hdr:size]
		if typ == path[0] {
			if len(path) == 1 {
				return body, true
			}
			if containers[typ] {
				return findBoxDepth(body, path[1:], depth+1)
			}
			return nil, false
		}
		data = data[size:]
	}
	return nil, false
}

// initTimescale reads the media timescale of the first track (mdhd) of an
// init segment.
func initTimescale(init []byte) (uint32, error) {
	mdhd, ok := findBox(init, "moov", "trak", "mdia", "mdhd")
	if !ok || len(mdhd) < 24 {
		return 0, fmt.Errorf("%w: no mdhd", ErrMedia)
	}
	off := 12 // version 0: version/flags, creation, modification
	if mdhd[0] == 1 {
		off = 20
		if len(mdhd) < 24+8 {
			return 0, fmt.Errorf("%w: short mdhd", ErrMedia)
		}
	}
	ts := binary.BigEndian.Uint32(mdhd[off:])
	if ts == 0 {
		return 0, fmt.Errorf("%w: zero timescale", ErrMedia)
	}
	return ts, nil
}

// fragmentSpan returns the decode time of the first sample of a CMAF
// chunk (tfdt) and the sum of its sample durations (trun, else the tfhd
// default), in timescale units.
func fragmentSpan(frag []byte) (start, dur uint64, err error) {
	tfdt, ok := findBox(frag, "moof", "traf", "tfdt")
	if !ok || len(tfdt) < 8 {
		return 0, 0, fmt.Errorf("%w: no tfdt", ErrMedia)
	}
	start = uint64(binary.BigEndian.Uint32(tfdt[4:]))
	if tfdt[0] == 1 {
		if len(tfdt) < 12 {
			return 0, 0, fmt.Errorf("%w: short tfdt", ErrMedia)
		}
		start = binary.BigEndian.Uint64(tfdt[4:])
	}
	tfhd, _ := findBox(frag, "moof", "traf", "tfhd")
	trun, ok := findBox(frag, "moof", "traf", "trun")
	if !ok {
		return 0, 0, fmt.Errorf("%w: no trun", ErrMedia)
	}
	dur, err = trunDuration(trun, tfhdDefaultDuration(tfhd))
	return start, dur, err
}

// tfhdDefaultDuration returns default_sample_duration of a tfhd, or 0.
func tfhdDefaultDuration(tfhd []byte) uint32 {
	if len(tfhd) < 8 {
		return 0
	}
	flags := binary.BigEndian.Uint32(tfhd) & 0xffffff
	off := 8 // version/flags, track_ID
	if flags&0x01 != 0 {
		off += 8
	}
	if flags&0x02 != 0 {
		off += 4
	}
	if flags&0x08 == 0 || len(tfhd) < off+4 {
		return 0
	}
	return binary.BigEndian.Uint32(tfhd[off:])
}

// trunDuration sums the sample durations of a trun.
func trunDuration(trun []byte, def uint32) (uint64, error) {
	if len(trun) < 8 {
		return 0, fmt.Errorf("%w: short trun", ErrMedia)
	}
	flags := binary.BigEndian.Uint32(trun) & 0xffffff
	count := uint64(binary.BigEndian.Uint32(trun[4:]))
	off := 8
	if flags&0x01 != 0 {
		off += 4
	}
	if flags&0x04 != 0 {
		off += 4
	}
	per := 0
	for _, bit := range []uint32{0x100, 0x200, 0x400, 0x800} {
		if flags&bit != 0 {
			per += 4
		}
	}
	if flags&0x100 == 0 {
		return count * uint64(def), nil
	}
	if off > len(trun) || count > uint64(len(trun)-off)/uint64(per) {
		return 0, fmt.Errorf("%w: trun sample count %d", ErrMedia, count)
	}
	var sum uint64
	for i := uint64(0); i < count; i++ {
		sum += uint64(binary.BigEndian.Uint32(trun[off+int(i)*per:]))
	}
	return sum, nil
}

// partKey names a part by media sequence number and index.
type partKey struct{ msn, part int }

func (k partKey) String() string { return fmt.Sprintf("%d.%d", k.msn, k.part) }

// llPlaylist is what liveload reads from an LL-HLS media playlist.
type llPlaylist struct {
	parts []partKey         // every EXT-X-PART listed, in order
	hint  partKey           // the preload hint (valid when hasHint)
	pdt   map[int]time.Time // program date time by segment number
	ended bool

	hasHint bool
}

// parsePartURI reads "part-M.P.m4s".
func parsePartURI(uri string) (partKey, bool) {
	s, ok := strings.CutPrefix(uri, "part-")
	if !ok {
		return partKey{}, false
	}
	s, ok = strings.CutSuffix(s, ".m4s")
	if !ok {
		return partKey{}, false
	}
	a, b, ok := strings.Cut(s, ".")
	m, err1 := strconv.Atoi(a)
	p, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || m < 0 || p < 0 {
		return partKey{}, false
	}
	return partKey{m, p}, true
}

// attr returns the value of attribute name in an attribute list line.
func attr(line, name string) string {
	i := strings.Index(line, name+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(name)+1:]
	if strings.HasPrefix(v, `"`) {
		v = v[1:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j]
		}
		return v
	}
	if j := strings.IndexByte(v, ','); j >= 0 {
		return v[:j]
	}
	return v
}

// parseLLHLS reads the parts, preload hint and program date times of an
// LL-HLS media playlist. Lines it does not need are ignored.
func parseLLHLS(body string) llPlaylist {
	pl := llPlaylist{pdt: map[int]time.Time{}}
	msn := -1
	var pendingPDT time.Time
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			msn, _ = strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"))
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			pendingPDT, _ = time.Parse(time.RFC3339Nano, strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"))
		case strings.HasPrefix(line, "#EXT-X-PART:"):
			if k, ok := parsePartURI(attr(line, "URI")); ok {
				pl.parts = append(pl.parts, k)
				if !pendingPDT.IsZero() {
					pl.pdt[k.msn], pendingPDT = pendingPDT, time.Time{}
				}
			}
		case strings.HasPrefix(line, "#EXT-X-PRELOAD-HINT:"):
			if k, ok := parsePartURI(attr(line, "URI")); ok && attr(line, "TYPE") == "PART" {
				pl.hint, pl.hasHint = k, true
			}
		case line == "#EXT-X-ENDLIST":
			pl.ended = true
		case line != "" && !strings.HasPrefix(line, "#"):
			if !pendingPDT.IsZero() && msn >= 0 {
				pl.pdt[msn] = pendingPDT
			}
			pendingPDT = time.Time{}
			msn++
		}
	}
	return pl
}

// tsPlaylist is what liveload reads from a plain HLS playlist (nginx-rtmp).
type tsPlaylist struct {
	seq  int       // EXT-X-MEDIA-SEQUENCE
	durs []float64 // EXTINF of each listed segment, in order
}

// parseTS reads the media sequence and segment durations of an HLS playlist.
func parseTS(body string) tsPlaylist {
	var pl tsPlaylist
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			pl.seq, _ = strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"))
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(v, 64)
			if err != nil || d < 0 || d > 3600 {
				d = 0
			}
			pl.durs = append(pl.durs, d)
		}
	}
	return pl
}
