package vod

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/classmesh/classmesh/node/mp4"
	"github.com/classmesh/classmesh/node/origin"
)

// build turns the indexed files of an asset into renditions with shared
// segment boundaries, sizes and playlists.
func (l *Library) build(spec origin.AssetSpec, srcs []*source) (*Asset, error) {
	rends := l.pickRenditions(spec.ID, srcs)
	if len(rends) == 0 {
		return nil, fmt.Errorf("%w", mp4.ErrNoTracks)
	}
	a := &Asset{
		ID: spec.ID, Title: title(spec), Description: spec.Description,
		Status: StatusReady, Renditions: rends,
		fingerprint: fingerprint(l.cfg.SegmentTarget, srcs),
	}
	l.segment(a)
	l.sizeSegments(a)
	for _, r := range rends {
		r.metrics = l.metrics
		r.finish()
		a.Duration = max(a.Duration, r.Duration)
	}
	a.buildMaster()
	return a, nil
}

// pickRenditions returns the video renditions (the first video track of
// every file, sorted by ID) followed by the audio renditions (the audio
// tracks of the first file, by path, that has audio).
func (l *Library) pickRenditions(assetID string, srcs []*source) []*Rendition {
	used := map[string]bool{}
	var video, audio []*Rendition
	for _, src := range srcs {
		var vt []*mp4.Track
		for _, t := range src.file.Tracks {
			if t.Kind == mp4.KindVideo && len(t.Samples) > 0 {
				vt = append(vt, t)
			}
		}
		if len(vt) > 1 {
			l.log.Info("vod: file has several video tracks, using the first", "asset", assetID, "file", src.path, "tracks", len(vt))
		}
		if len(vt) > 0 {
			id := unique(used, sanitize(strings.TrimSuffix(path.Base(src.path), path.Ext(src.path))))
			video = append(video, newRendition(id, src, vt[0]))
		}
	}
	sort.Slice(video, func(i, j int) bool { return video[i].ID < video[j].ID })
	for _, src := range srcs { // srcs are sorted by path
		var at []*mp4.Track
		for _, t := range src.file.Tracks {
			if t.Kind == mp4.KindAudio && len(t.Samples) > 0 {
				at = append(at, t)
			}
		}
		for i, t := range at {
			id := "audio"
			if len(at) > 1 {
				id = "audio-" + strconv.Itoa(i+1)
				if lang := language(t.Language); lang != "" && !used["audio-"+lang] {
					id = "audio-" + lang
				}
			}
			audio = append(audio, newRendition(unique(used, id), src, t))
		}
		if len(at) > 0 {
			break
		}
	}
	return append(video, audio...)
}

func newRendition(id string, src *source, t *mp4.Track) *Rendition {
	return &Rendition{
		ID: id, Kind: t.Kind, Codec: t.Codec, Width: int(t.Width), Height: int(t.Height),
		Language: language(t.Language), Channels: int(t.Channels), SampleRate: int(t.SampleRate),
		FrameRate: frameRate(t), Path: src.path, SourceID: src.identity, Track: t,
	}
}

// segment computes every rendition's segments. The reference is the video
// rendition with the fewest key frames (ties: most pixels, then ID), or the
// first audio rendition of an audio-only asset: with encoders that force
// key frames at common times, the rendition with the fewest key frames has
// only those shared ones, so its boundaries exist in every rendition.
func (l *Library) segment(a *Asset) {
	ref := a.Renditions[0]
	for _, r := range a.Renditions[1:] {
		if r.Kind == mp4.KindVideo && betterReference(r, ref) {
			ref = r
		}
	}
	ref.Segments = Boundaries(ref.Track, l.cfg.SegmentTarget)
	bounds := Times(ref.Segments)
	for _, r := range a.Renditions {
		switch {
		case r == ref:
		case r.Kind == mp4.KindAudio:
			r.Segments = CutAt(r.Track, bounds, ref.Track.Timescale, false)
		case aligned(r.Track, bounds, ref.Track.Timescale):
			r.Segments = CutAt(r.Track, bounds, ref.Track.Timescale, true)
		default:
			l.log.Warn("vod: key frames not aligned with the reference rendition, segmenting on its own",
				"asset", a.ID, "rendition", r.ID, "reference", ref.ID)
			r.Segments = Boundaries(r.Track, l.cfg.SegmentTarget)
		}
	}
}

func betterReference(r, ref *Rendition) bool {
	rk, fk := syncCount(r.Track), syncCount(ref.Track)
	if rk != fk {
		return rk < fk
	}
	if rp, fp := r.Width*r.Height, ref.Width*ref.Height; rp != fp {
		return rp > fp
	}
	return r.ID < ref.ID
}

func syncCount(t *mp4.Track) int {
	n := 0
	for _, s := range t.Samples {
		if s.Sync {
			n++
		}
	}
	return n
}

// finish computes the rendition's totals and playlist once its segments
// have sizes.
func (r *Rendition) finish() {
	var bytes, ticks int64
	for _, s := range r.Segments {
		bytes += s.Size
		ticks += s.Duration
		if s.Duration > 0 {
			r.Bandwidth = max(r.Bandwidth, ceilDiv(s.Size*8*int64(r.Track.Timescale), s.Duration))
		}
	}
	if ticks > 0 {
		r.AverageBandwidth = ceilDiv(bytes*8*int64(r.Track.Timescale), ticks)
	}
	r.Duration = time.Duration(float64(ticks) / float64(r.Track.Timescale) * float64(time.Second))
	r.buildPlaylist()
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// frameRate is the frame rate implied by the most common sample duration
// (0 for audio), rounded to three decimals.
func frameRate(t *mp4.Track) float64 {
	if t.Kind != mp4.KindVideo {
		return 0
	}
	counts := map[uint32]int{}
	var best uint32
	for _, s := range t.Samples {
		counts[s.Duration]++
		if c := counts[s.Duration]; c > counts[best] || (c == counts[best] && s.Duration < best) {
			best = s.Duration
		}
	}
	if best == 0 {
		return 0
	}
	fps := float64(t.Timescale) / float64(best)
	return float64(int64(fps*1000+0.5)) / 1000
}

// fingerprint identifies the sources and segment target of an asset.
func fingerprint(target time.Duration, srcs []*source) string {
	h := sha256.New()
	fmt.Fprintf(h, "v1\x00%d\x00", target)
	for _, s := range srcs {
		fmt.Fprintf(h, "%s\x00%s\x00", s.path, s.identity)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// sanitize maps a file name to a rendition ID of [A-Za-z0-9._-].
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	s = strings.TrimLeft(string(b), "._-")
	if s == "" {
		s = "video"
	}
	return s
}

// unique returns id, or id-2, id-3, ... if taken, and marks it used.
func unique(used map[string]bool, id string) string {
	out := id
	for n := 2; used[out]; n++ {
		out = id + "-" + strconv.Itoa(n)
	}
	used[out] = true
	return out
}

// language maps an ISO 639-2/T code from mdhd to the RFC 5646 tag HLS
// wants: the two-letter code for common languages, "" for undetermined.
func language(code string) string {
	switch code {
	case "", "und", "zxx", "mis", "mul":
		return ""
	case "eng":
		return "en"
	case "fra", "fre":
		return "fr"
	case "deu", "ger":
		return "de"
	case "spa":
		return "es"
	case "ita":
		return "it"
	case "por":
		return "pt"
	case "nld", "dut":
		return "nl"
	case "rus":
		return "ru"
	case "jpn":
		return "ja"
	case "zho", "chi":
		return "zh"
	case "kor":
		return "ko"
	case "ara":
		return "ar"
	case "hin":
		return "hi"
	}
	return code
}
