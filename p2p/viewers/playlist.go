package viewers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// Playlist limits (outside bytes).
const (
	maxPlaylistBytes = 8 << 20
	maxSegments      = 200000
	maxVariants      = 64
	maxLineBytes     = 64 << 10
)

// ErrPlaylist wraps every playlist parse error.
var ErrPlaylist = errors.New("swarm: bad playlist")

// Variant is one EXT-X-STREAM-INF entry of a multivariant playlist.
type Variant struct {
	// URI as written (relative to the multivariant playlist).
	URI string
	// Bandwidth is BANDWIDTH in bits per second.
	Bandwidth int64
	// Name is the rendition name: the directory holding the media
	// playlist (e.g. "720p" of "720p/media.m3u8").
	Name string
}

// Segment is one media segment of a media playlist.
type Segment struct {
	// Seq is N of seg-N.m4s, else the media sequence number.
	Seq      uint64
	URI      string
	Duration float64 // seconds
}

// Media is a parsed media playlist.
type Media struct {
	Init           string // EXT-X-MAP URI, "" if none
	TargetDuration float64
	MediaSequence  uint64
	Segments       []Segment
	Ended          bool // EXT-X-ENDLIST
}

// Playlist is either a multivariant playlist (Variants) or a media
// playlist (Media).
type Playlist struct {
	Variants []Variant
	Media    *Media
}

// ParsePlaylist parses an HLS playlist (RFC 8216) far enough to play it:
// variants with BANDWIDTH, or EXT-X-MAP, EXTINF durations, segment URIs,
// EXT-X-MEDIA-SEQUENCE, EXT-X-TARGETDURATION and EXT-X-ENDLIST. Unknown
// tags are ignored.
func ParsePlaylist(b []byte) (*Playlist, error) {
	if len(b) > maxPlaylistBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrPlaylist, len(b))
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "#EXTM3U" {
		return nil, fmt.Errorf("%w: no #EXTM3U", ErrPlaylist)
	}
	p := &parser{pl: &Playlist{}, m: &Media{}}
	for sc.Scan() {
		if err := p.line(strings.TrimSpace(sc.Text())); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPlaylist, err)
	}
	if len(p.pl.Variants) > 0 {
		return p.pl, nil
	}
	if len(p.m.Segments) == 0 && !p.m.Ended && p.m.TargetDuration == 0 {
		return nil, fmt.Errorf("%w: neither variants nor segments", ErrPlaylist)
	}
	p.pl.Media = p.m
	return p.pl, nil
}

type parser struct {
	pl      *Playlist
	m       *Media
	inf     float64 // pending EXTINF, -1 when none
	hasInf  bool
	variant *Variant // pending STREAM-INF
}

func (p *parser) line(s string) error {
	switch {
	case s == "":
		return nil
	case strings.HasPrefix(s, "#EXT-X-STREAM-INF:"):
		bw, _ := strconv.ParseInt(attr(s[len("#EXT-X-STREAM-INF:"):], "BANDWIDTH"), 10, 64)
		p.variant = &Variant{Bandwidth: max(bw, 0)}
	case strings.HasPrefix(s, "#EXTINF:"):
		d, err := strconv.ParseFloat(strings.SplitN(s[len("#EXTINF:"):], ",", 2)[0], 64)
		if err != nil || d < 0 || d > 3600 || math.IsNaN(d) {
			return fmt.Errorf("%w: EXTINF %q", ErrPlaylist, trunc(s))
		}
		p.inf, p.hasInf = d, true
	case strings.HasPrefix(s, "#EXT-X-MAP:"):
		p.m.Init = attr(s[len("#EXT-X-MAP:"):], "URI")
	case strings.HasPrefix(s, "#EXT-X-TARGETDURATION:"):
		d, err := strconv.ParseFloat(s[len("#EXT-X-TARGETDURATION:"):], 64)
		if err != nil || d < 0 || d > 3600 {
			return fmt.Errorf("%w: %q", ErrPlaylist, trunc(s))
		}
		p.m.TargetDuration = d
	case strings.HasPrefix(s, "#EXT-X-MEDIA-SEQUENCE:"):
		n, err := strconv.ParseUint(s[len("#EXT-X-MEDIA-SEQUENCE:"):], 10, 64)
		if err != nil || n > 1<<53-1 {
			return fmt.Errorf("%w: %q", ErrPlaylist, trunc(s))
		}
		p.m.MediaSequence = n
	case s == "#EXT-X-ENDLIST":
		p.m.Ended = true
	case strings.HasPrefix(s, "#"):
		return nil
	default:
		return p.uri(s)
	}
	return nil
}

func (p *parser) uri(s string) error {
	if p.variant != nil {
		if len(p.pl.Variants) >= maxVariants {
			return fmt.Errorf("%w: more than %d variants", ErrPlaylist, maxVariants)
		}
		p.variant.URI = s
		p.variant.Name = renditionName(s)
		p.pl.Variants = append(p.pl.Variants, *p.variant)
		p.variant = nil
		return nil
	}
	if !p.hasInf {
		return fmt.Errorf("%w: URI %q without EXTINF", ErrPlaylist, trunc(s))
	}
	if len(p.m.Segments) >= maxSegments {
		return fmt.Errorf("%w: more than %d segments", ErrPlaylist, maxSegments)
	}
	seq := p.m.MediaSequence + uint64(len(p.m.Segments))
	if n, ok := segNumber(s); ok {
		seq = n
	}
	p.m.Segments = append(p.m.Segments, Segment{Seq: seq, URI: s, Duration: p.inf})
	p.hasInf = false
	return nil
}

// segNumber extracts N from .../seg-N.m4s (query ignored).
func segNumber(uri string) (uint64, bool) {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	base := path.Base(uri)
	num, ok := strings.CutPrefix(base, "seg-")
	if !ok {
		return 0, false
	}
	num, ok = strings.CutSuffix(num, ".m4s")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil && n <= 1<<53-1
}

// renditionName is the last directory of a variant URI.
func renditionName(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		uri = u.Path
	}
	dir := path.Dir(uri)
	if dir == "." || dir == "/" {
		return strings.TrimSuffix(path.Base(uri), path.Ext(uri))
	}
	return path.Base(dir)
}

// attr returns the value of name in an attribute list (quotes removed).
func attr(list, name string) string {
	for len(list) > 0 {
		eq := strings.IndexByte(list, '=')
		if eq < 0 {
			return ""
		}
		key := strings.TrimSpace(list[:eq])
		rest := list[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return ""
			}
			val, rest = rest[1:1+end], rest[2+end:]
		} else if c := strings.IndexByte(rest, ','); c >= 0 {
			val, rest = rest[:c], rest[c:]
		} else {
			val, rest = rest, ""
		}
		if key == name {
			return val
		}
		list = strings.TrimPrefix(rest, ",")
	}
	return ""
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
