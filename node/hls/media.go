package hls

import (
	"io"
	"strconv"
)

// Segment is one media segment of a media playlist.
type Segment struct {
	// URI is the segment's URI, relative to the media playlist.
	URI string
	// Duration is the segment's duration in seconds (EXTINF).
	Duration float64
}

// Media is a VOD media playlist of CMAF segments.
type Media struct {
	// MapURI is the init section (EXT-X-MAP URI), relative to the
	// playlist, usually "init.mp4".
	MapURI string
	// Segments in playback order. The first has media sequence number 0.
	Segments []Segment
}

// Append appends the playlist text to dst and returns the extended slice:
// EXTM3U, EXT-X-VERSION:6, EXT-X-TARGETDURATION (see TargetDuration),
// EXT-X-MEDIA-SEQUENCE:0, EXT-X-PLAYLIST-TYPE:VOD,
// EXT-X-INDEPENDENT-SEGMENTS, EXT-X-MAP, an EXTINF and URI line per
// segment and EXT-X-ENDLIST.
func (p *Media) Append(dst []byte) []byte {
	durs := make([]float64, len(p.Segments))
	for i, s := range p.Segments {
		durs[i] = s.Duration
	}
	dst = append(dst, "#EXTM3U\n#EXT-X-VERSION:"...)
	dst = strconv.AppendInt(dst, versionMedia, 10)
	dst = append(dst, "\n#EXT-X-TARGETDURATION:"...)
	dst = strconv.AppendInt(dst, int64(TargetDuration(durs)), 10)
	dst = append(dst, "\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	var at attrs
	at.quoted("URI", p.MapURI)
	dst = append(dst, "#EXT-X-MAP:"...)
	dst = append(dst, at.b...)
	dst = append(dst, '\n')
	for _, s := range p.Segments {
		dst = append(dst, "#EXTINF:"...)
		dst = append(dst, FormatDuration(s.Duration)...)
		dst = append(dst, ",\n"...)
		dst = append(dst, uriLine(s.URI)...)
		dst = append(dst, '\n')
	}
	return append(dst, "#EXT-X-ENDLIST\n"...)
}

// Bytes returns the playlist text.
func (p *Media) Bytes() []byte { return p.Append(nil) }

// WriteTo writes the playlist text to w.
func (p *Media) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(p.Bytes())
	return int64(n), err
}
