package live

import (
	"bytes"
	"fmt"

	"github.com/classmesh/classmesh/node/hls"
	"github.com/classmesh/classmesh/node/mp4"
)

// audioGroup is the GROUP-ID of the audio rendition in master playlists.
const audioGroup = "audio"

// Bandwidths assumed before a rendition has produced a segment.
const (
	defaultVideoBandwidth = 2_000_000
	defaultAudioBandwidth = 128_000
)

// initInfo is what the master playlist needs from an init segment.
type initInfo struct {
	kind          mp4.TrackKind
	codec         string
	width, height int
	channels      int
}

// parseInit reads an init segment (from the local packager or the relay)
// with the mp4 reader.
func parseInit(init []byte) (initInfo, error) {
	f, err := mp4.ReadFile(bytes.NewReader(init), int64(len(init)))
	if err != nil {
		return initInfo{}, fmt.Errorf("%w: init segment: %w", ErrCodec, err)
	}
	if len(f.Tracks) != 1 {
		return initInfo{}, fmt.Errorf("%w: init segment with %d tracks", ErrCodec, len(f.Tracks))
	}
	t := f.Tracks[0]
	return initInfo{kind: t.Kind, codec: t.Codec, width: int(t.Width), height: int(t.Height), channels: int(t.Channels)}, nil
}

// describe returns the track's current init information and its peak
// segment bit rate (bits/s) in the window, from complete segments or, before
// there is one, from the parts so far; 0 when unknown.
func (t *Track) describe() (initInfo, int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info, ok := t.info[t.lastInit]
	if !ok || len(t.segs) == 0 {
		return info, 0, false
	}
	var peak int64
	for _, s := range t.segs {
		if s.complete && !s.gap && s.duration > 0 {
			peak = max(peak, int64(float64(s.size*8)/s.duration.Seconds()))
		}
	}
	if s := t.segs[len(t.segs)-1]; peak == 0 {
		if d := s.partsDuration(); d > 0 {
			peak = int64(float64(s.size*8) / d.Seconds())
		}
	}
	return info, peak, true
}

// master builds the session's multivariant playlist from the tracks that
// have an init segment and at least one part; false when none has.
func (s *Session) master() ([]byte, bool) {
	var video, audio *initInfo
	var vbw, abw int64
	for _, t := range s.Tracks() {
		info, bw, ok := t.describe()
		if !ok {
			continue
		}
		switch {
		case info.kind == mp4.KindVideo && t.name == RenditionVideo:
			video, vbw = &info, bw
		case info.kind == mp4.KindAudio && t.name == RenditionAudio:
			audio, abw = &info, bw
		}
	}
	if vbw == 0 {
		vbw = defaultVideoBandwidth
	}
	if abw == 0 {
		abw = defaultAudioBandwidth
	}
	var m hls.Multivariant
	switch {
	case video != nil:
		v := hls.Variant{URI: RenditionVideo + "/media.m3u8", Bandwidth: vbw, Codecs: []string{video.codec},
			Width: video.width, Height: video.height}
		if audio != nil {
			m.Audio = []hls.Audio{{GroupID: audioGroup, Name: "audio", Default: true, AutoSelect: true,
				Channels: audio.channels, URI: RenditionAudio + "/media.m3u8"}}
			v.Bandwidth += abw
			v.Codecs = append(v.Codecs, audio.codec)
			v.Audio = audioGroup
		}
		m.Variants = []hls.Variant{v}
	case audio != nil:
		m.Variants = []hls.Variant{{URI: RenditionAudio + "/media.m3u8", Bandwidth: abw, Codecs: []string{audio.codec}}}
	default:
		return nil, false
	}
	return m.Bytes(), true
}
