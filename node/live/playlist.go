package live

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/classmesh/classmesh/node/hls"
)

// playlistVersion is EXT-X-VERSION of live media playlists: 9 for
// EXT-X-SKIP (delta updates); EXT-X-GAP needs 8.
const playlistVersion = 9

// pdtLayout formats EXT-X-PROGRAM-DATE-TIME (ISO 8601, milliseconds, UTC).
const pdtLayout = "2006-01-02T15:04:05.000Z"

// renditionReport is one EXT-X-RENDITION-REPORT.
type renditionReport struct {
	uri  string
	msn  int64
	part int
}

// URIs of a track's files, relative to its media playlist.
func initURI(id uint32) string    { return fmt.Sprintf("init-%08x.mp4", id) }
func segmentURI(msn int64) string { return "seg-" + strconv.FormatInt(msn, 10) + ".m4s" }
func partURI(msn int64, i int) string {
	return "part-" + strconv.FormatInt(msn, 10) + "." + strconv.Itoa(i) + ".m4s"
}
func seconds(d time.Duration) string    { return hls.FormatDuration(d.Seconds()) }
func reportURI(rendition string) string { return "../" + rendition + "/media.m3u8" }

// playlistState is what rendering needs, computed under the track lock.
type playlistState struct {
	target     int
	partTarget time.Duration
	skipped    int // segments replaced by EXT-X-SKIP
	partsFrom  int // first segment whose parts are listed
}

// stateLocked computes the target durations, the delta skip and the part
// window.
func (t *Track) stateLocked(skip bool) playlistState {
	st := playlistState{target: t.target, partTarget: t.partTgt}
	durs := make([]float64, 0, len(t.segs))
	for _, s := range t.segs {
		if s.complete {
			durs = append(durs, s.duration.Seconds())
		}
		for _, p := range s.parts {
			st.partTarget = max(st.partTarget, p.Duration)
		}
	}
	st.target = max(st.target, hls.TargetDuration(durs))
	st.partTarget = max(st.partTarget, time.Millisecond)
	// Parts are listed for the segments that start within three target
	// durations of the live edge (and always for the open segment).
	st.partsFrom = len(t.segs)
	var after time.Duration
	skipUntil := 6 * time.Duration(st.target) * time.Second
	for i := len(t.segs) - 1; i >= 0; i-- {
		s := t.segs[i]
		if !s.complete {
			after += s.partsDuration()
			st.partsFrom = i
			continue
		}
		if after+s.duration <= 3*time.Duration(st.target)*time.Second {
			st.partsFrom = i
		}
		if skip && st.skipped == 0 && after >= skipUntil {
			st.skipped = i + 1
		}
		after += s.duration
	}
	return st
}

// renderedPlaylist is a media playlist as rendered at a track version
// with given rendition reports. body is never modified once stored.
type renderedPlaylist struct {
	version uint64
	reports []renditionReport
	body    []byte
}

// playlistLocked returns the media playlist, rendered again only when the
// track or the other renditions' reports changed since the last call
// with the same skip mode. The result must not be modified.
func (t *Track) playlistLocked(skip bool, reports []renditionReport) []byte {
	r := &t.rendered[0]
	if skip {
		r = &t.rendered[1]
	}
	if r.body != nil && r.version == t.version && slices.Equal(r.reports, reports) {
		return r.body
	}
	body := t.appendPlaylistLocked(make([]byte, 0, max(4096, len(r.body)+512)), skip, reports)
	*r = renderedPlaylist{version: t.version, reports: reports, body: body}
	return body
}

// appendPlaylistLocked appends the LL-HLS media playlist (with a delta
// update when skip is set and enough segments are old enough).
func (t *Track) appendPlaylistLocked(dst []byte, skip bool, reports []renditionReport) []byte {
	st := t.stateLocked(skip)
	dst = t.appendHeaderLocked(dst, st)
	if st.skipped > 0 {
		dst = append(dst, "#EXT-X-SKIP:SKIPPED-SEGMENTS="...)
		dst = strconv.AppendInt(dst, int64(st.skipped), 10)
		dst = append(dst, '\n')
	}
	var mapID uint32
	for i := st.skipped; i < len(t.segs); i++ {
		s := t.segs[i]
		if i == st.skipped || s.initID != mapID {
			mapID = s.initID
			dst = append(dst, "#EXT-X-MAP:URI=\""+initURI(mapID)+"\"\n"...)
		}
		dst = appendSegment(dst, s, i > 0, i >= st.partsFrom)
	}
	if !t.ended {
		if next, ok := t.nextLocked(); ok {
			dst = append(dst, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""+partURI(next.msn, next.index)+"\"\n"...)
		}
	}
	for _, r := range reports {
		dst = append(dst, "#EXT-X-RENDITION-REPORT:URI=\""+r.uri+"\",LAST-MSN="...)
		dst = strconv.AppendInt(dst, r.msn, 10)
		dst = append(dst, ",LAST-PART="...)
		dst = strconv.AppendInt(dst, int64(r.part), 10)
		dst = append(dst, '\n')
	}
	if t.ended {
		dst = append(dst, "#EXT-X-ENDLIST\n"...)
	}
	return dst
}

// appendHeaderLocked appends the tags before the first segment.
func (t *Track) appendHeaderLocked(dst []byte, st playlistState) []byte {
	first := t.segs[0]
	td := time.Duration(st.target) * time.Second
	dst = append(dst, "#EXTM3U\n#EXT-X-VERSION:"...)
	dst = strconv.AppendInt(dst, playlistVersion, 10)
	dst = append(dst, "\n#EXT-X-TARGETDURATION:"...)
	dst = strconv.AppendInt(dst, int64(st.target), 10)
	dst = append(dst, "\n#EXT-X-PART-INF:PART-TARGET="+seconds(st.partTarget)...)
	dst = append(dst, "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL="+seconds(6*td)...)
	dst = append(dst, ",PART-HOLD-BACK="+seconds(3*st.partTarget)...)
	dst = append(dst, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	dst = strconv.AppendInt(dst, first.msn, 10)
	dst = append(dst, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	dst = strconv.AppendInt(dst, first.discSeq, 10)
	return append(dst, '\n')
}

// appendSegment appends one segment: its discontinuity (never on the
// first segment, whose number EXT-X-DISCONTINUITY-SEQUENCE carries), date,
// parts and, once complete, EXTINF and URI.
func appendSegment(dst []byte, s *segment, notFirst, withParts bool) []byte {
	if s.disc && notFirst {
		dst = append(dst, "#EXT-X-DISCONTINUITY\n"...)
	}
	if !s.pdt.IsZero() {
		dst = append(dst, "#EXT-X-PROGRAM-DATE-TIME:"...)
		dst = s.pdt.UTC().AppendFormat(dst, pdtLayout)
		dst = append(dst, '\n')
	}
	if withParts {
		for _, p := range s.parts {
			dst = append(dst, "#EXT-X-PART:DURATION="+seconds(p.Duration)+",URI=\""+partURI(p.MSN, p.Index)+"\""...)
			if p.Independent {
				dst = append(dst, ",INDEPENDENT=YES"...)
			}
			if p.Gap || s.gap {
				dst = append(dst, ",GAP=YES"...)
			}
			dst = append(dst, '\n')
		}
	}
	if !s.complete {
		return dst
	}
	if s.gap {
		dst = append(dst, "#EXT-X-GAP\n"...)
	}
	dst = append(dst, "#EXTINF:"+seconds(s.duration)+",\n"+segmentURI(s.msn)+"\n"...)
	return dst
}

// holdTimeout is how long a blocking request may be held: three target
// durations, as the HLS specification suggests.
func (t *Track) holdTimeout() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	target := t.target
	if len(t.segs) > 0 {
		target = t.stateLocked(false).target
	}
	return 3 * time.Duration(max(target, 1)) * time.Second
}

// advancePartLimit is how many parts ahead of the last one a request may
// ask for: three part targets' worth (at least three parts), per the HLS
// specification's Advance Part Limit.
func advancePartLimit(partTarget time.Duration) int {
	if partTarget <= 0 || partTarget >= time.Second {
		return 3
	}
	return int(math.Ceil(3 / partTarget.Seconds()))
}
