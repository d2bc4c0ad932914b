package vod

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/classmesh/classmesh/node/hls"
	"github.com/classmesh/classmesh/node/mp4"
)

// audioGroup is the GROUP-ID of the audio renditions in master playlists.
const audioGroup = "audio"

// Asset is one course video: a set of renditions packaged together.
// Assets are immutable once published by Refresh.
type Asset struct {
	ID, Title, Description string
	// Status is StatusReady or StatusFailed.
	Status string
	// Reason says why a failed asset failed, naming the file
	// ("720p.mp4: mp4: malformed file: ...").
	Reason string
	// Duration is the longest rendition's duration.
	Duration time.Duration
	// Renditions are the video renditions (by ID) followed by the audio
	// renditions. Empty for failed assets.
	Renditions []*Rendition

	// fingerprint identifies the exact sources and segment target the
	// asset was built from; it is part of every cache key.
	fingerprint string
	master      []byte
}

// Rendition looks up a rendition by ID.
func (a *Asset) Rendition(id string) (*Rendition, bool) {
	for _, r := range a.Renditions {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// MasterPlaylist returns the asset's multivariant playlist. Rendition
// playlists are referenced as "<rendition>/media.m3u8".
func (a *Asset) MasterPlaylist() []byte { return a.master }

// Rendition is one video or audio track of an asset, packaged as its own
// CMAF track.
type Rendition struct {
	ID         string
	Kind       mp4.TrackKind
	Codec      string
	Width      int
	Height     int
	FrameRate  float64
	Language   string
	Channels   int
	SampleRate int
	// Bandwidth is the peak segment bit rate in bits/s.
	Bandwidth int64
	// AverageBandwidth is the whole rendition's bit rate in bits/s.
	AverageBandwidth int64
	Duration         time.Duration
	Segments         []Segment
	// Path is the origin path of the source file.
	Path string
	// SourceID is the source's origin identity when it was indexed.
	SourceID string
	// Track is the source track with its complete sample table.
	Track *mp4.Track

	playlist []byte
	metrics  *metrics
	initOnce sync.Once
	init     []byte
}

// Segment is one media segment of a rendition.
type Segment struct {
	// Number is 0-based: the URL is seg-{Number}.m4s and the mfhd sequence
	// number is Number+1.
	Number int
	// FirstSample and SampleCount select the segment's samples in
	// Track.Samples.
	FirstSample, SampleCount int
	// StartDTS is the first sample's decode time (ticks).
	StartDTS int64
	// Duration is the segment's decode duration in Track.Timescale ticks.
	Duration int64
	// Size is the exact byte size of the CMAF segment.
	Size int64
}

// MediaPlaylist returns the rendition's VOD media playlist.
func (r *Rendition) MediaPlaylist() []byte { return r.playlist }

// Init returns the rendition's CMAF init section (computed once).
func (r *Rendition) Init() []byte {
	r.initOnce.Do(func() {
		start := time.Now()
		r.init = mp4.AppendInit(nil, r.Track)
		r.metrics.observe("init", start)
	})
	return r.init
}

// SegmentSize returns the exact size of segment n, or an error wrapping
// ErrNotFound.
func (r *Rendition) SegmentSize(n int) (int64, error) {
	if n < 0 || n >= len(r.Segments) {
		return 0, fmt.Errorf("%w: rendition %q has %d segments, no segment %d", ErrNotFound, r.ID, len(r.Segments), n)
	}
	return r.Segments[n].Size, nil
}

// samples returns segment n's samples.
func (r *Rendition) samples(n int) []mp4.Sample {
	s := r.Segments[n]
	return r.Track.Samples[s.FirstSample : s.FirstSample+s.SampleCount]
}

// seconds converts ticks of the rendition's timescale to seconds.
func (r *Rendition) seconds(ticks int64) float64 {
	return float64(ticks) / float64(r.Track.Timescale)
}

// buildPlaylist renders the media playlist.
func (r *Rendition) buildPlaylist() {
	p := hls.Media{MapURI: "init.mp4", Segments: make([]hls.Segment, len(r.Segments))}
	for i, s := range r.Segments {
		p.Segments[i] = hls.Segment{URI: "seg-" + strconv.Itoa(i) + ".m4s", Duration: r.seconds(s.Duration)}
	}
	r.playlist = p.Bytes()
}

// buildMaster renders the asset's multivariant playlist: one
// EXT-X-STREAM-INF per video rendition referencing the audio group, or one
// per audio rendition for audio-only assets.
func (a *Asset) buildMaster() {
	var video, audio []*Rendition
	for _, r := range a.Renditions {
		if r.Kind == mp4.KindVideo {
			video = append(video, r)
		} else {
			audio = append(audio, r)
		}
	}
	var m hls.Multivariant
	if len(video) == 0 {
		for _, r := range audio {
			m.Variants = append(m.Variants, hls.Variant{
				URI: r.ID + "/media.m3u8", Bandwidth: r.Bandwidth,
				AverageBandwidth: r.AverageBandwidth, Codecs: []string{r.Codec},
			})
		}
		a.master = m.Bytes()
		return
	}
	var peak, avg int64
	for i, r := range audio {
		m.Audio = append(m.Audio, hls.Audio{
			GroupID: audioGroup, Name: audioName(r, i), Language: r.Language,
			Default: i == 0, AutoSelect: true, Channels: r.Channels, URI: r.ID + "/media.m3u8",
		})
		peak, avg = max(peak, r.Bandwidth), max(avg, r.AverageBandwidth)
	}
	for _, r := range video {
		v := hls.Variant{
			URI: r.ID + "/media.m3u8", Bandwidth: r.Bandwidth + peak,
			AverageBandwidth: r.AverageBandwidth + avg, Codecs: []string{r.Codec},
			Width: r.Width, Height: r.Height, FrameRate: r.FrameRate,
		}
		if len(audio) > 0 {
			v.Codecs = append(v.Codecs, audio[0].Codec)
			v.Audio = audioGroup
		}
		m.Variants = append(m.Variants, v)
	}
	a.master = m.Bytes()
}

// audioName is the NAME of an audio rendition: its language, else a
// number.
func audioName(r *Rendition, i int) string {
	if r.Language != "" {
		return r.Language
	}
	return "Audio " + strconv.Itoa(i+1)
}
