package hls

import (
	"io"
	"strconv"
	"strings"
)

// Audio is one EXT-X-MEDIA TYPE=AUDIO rendition of a multivariant playlist.
type Audio struct {
	// GroupID is the GROUP-ID that variants reference with AUDIO.
	GroupID string
	// Name is the human-readable NAME; unique within the group.
	Name string
	// Language is the RFC 5646 LANGUAGE tag; empty omits the attribute.
	Language string
	// Default and AutoSelect are the DEFAULT and AUTOSELECT attributes.
	// A default rendition is always written with AUTOSELECT=YES, as RFC
	// 8216 section 4.3.4.1 requires.
	Default    bool
	AutoSelect bool
	// Channels is the number of audio channels for CHANNELS; 0 omits it.
	Channels int
	// URI is the rendition's media playlist, relative to the multivariant
	// playlist.
	URI string
}

// Variant is one EXT-X-STREAM-INF variant stream.
type Variant struct {
	// URI is the variant's media playlist, relative to the multivariant
	// playlist.
	URI string
	// Bandwidth is the peak segment bit rate in bits/s of the variant
	// including its audio (BANDWIDTH, required).
	Bandwidth int64
	// AverageBandwidth is the average bit rate in bits/s including audio
	// (AVERAGE-BANDWIDTH); 0 omits it.
	AverageBandwidth int64
	// Codecs are RFC 6381 codec strings, video first ("avc1.64001F",
	// "mp4a.40.2"); written comma-separated in one quoted CODECS value.
	// Empty omits the attribute.
	Codecs []string
	// Width and Height give RESOLUTION; either zero omits it.
	Width, Height int
	// FrameRate is the maximum frame rate (FRAME-RATE, three decimals);
	// 0 omits it.
	FrameRate float64
	// Audio is the GROUP-ID of the audio renditions to play with this
	// variant; empty omits the attribute.
	Audio string
}

// Multivariant is a multivariant ("master") playlist.
type Multivariant struct {
	// Audio renditions, written as EXT-X-MEDIA tags in order.
	Audio []Audio
	// Variants, written as EXT-X-STREAM-INF tags in order.
	Variants []Variant
}

// Append appends the playlist text to dst and returns the extended slice.
//
// Layout: EXTM3U, EXT-X-INDEPENDENT-SEGMENTS (every segment starts with a
// key frame), the EXT-X-MEDIA tags, then each EXT-X-STREAM-INF followed by
// its URI line. Attributes come in a fixed order: TYPE, GROUP-ID, NAME,
// LANGUAGE, DEFAULT, AUTOSELECT, CHANNELS, URI for EXT-X-MEDIA and
// BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE, AUDIO for
// EXT-X-STREAM-INF.
func (m *Multivariant) Append(dst []byte) []byte {
	dst = append(dst, "#EXTM3U\n"...)
	if versionMultivariant > 1 {
		dst = append(dst, "#EXT-X-VERSION:"...)
		dst = strconv.AppendInt(dst, versionMultivariant, 10)
		dst = append(dst, '\n')
	}
	dst = append(dst, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	for i := range m.Audio {
		dst = appendAudio(dst, &m.Audio[i])
	}
	for i := range m.Variants {
		dst = appendVariant(dst, &m.Variants[i])
	}
	return dst
}

// Bytes returns the playlist text.
func (m *Multivariant) Bytes() []byte { return m.Append(nil) }

// WriteTo writes the playlist text to w.
func (m *Multivariant) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(m.Bytes())
	return int64(n), err
}

func appendAudio(dst []byte, a *Audio) []byte {
	var at attrs
	at.enum("TYPE", "AUDIO")
	at.quoted("GROUP-ID", a.GroupID)
	at.quoted("NAME", a.Name)
	if a.Language != "" {
		at.quoted("LANGUAGE", a.Language)
	}
	at.yesNo("DEFAULT", a.Default)
	at.yesNo("AUTOSELECT", a.AutoSelect || a.Default)
	if a.Channels > 0 {
		at.quoted("CHANNELS", strconv.Itoa(a.Channels))
	}
	at.quoted("URI", a.URI)
	dst = append(dst, "#EXT-X-MEDIA:"...)
	dst = append(dst, at.b...)
	return append(dst, '\n')
}

func appendVariant(dst []byte, v *Variant) []byte {
	var at attrs
	at.integer("BANDWIDTH", v.Bandwidth)
	if v.AverageBandwidth > 0 {
		at.integer("AVERAGE-BANDWIDTH", v.AverageBandwidth)
	}
	if len(v.Codecs) > 0 {
		at.quoted("CODECS", strings.Join(v.Codecs, ","))
	}
	if v.Width > 0 && v.Height > 0 {
		at.enum("RESOLUTION", strconv.Itoa(v.Width)+"x"+strconv.Itoa(v.Height))
	}
	if v.FrameRate > 0 {
		at.enum("FRAME-RATE", strconv.FormatFloat(v.FrameRate, 'f', 3, 64))
	}
	if v.Audio != "" {
		at.quoted("AUDIO", v.Audio)
	}
	dst = append(dst, "#EXT-X-STREAM-INF:"...)
	dst = append(dst, at.b...)
	dst = append(dst, '\n')
	dst = append(dst, uriLine(v.URI)...)
	return append(dst, '\n')
}

// uriLine keeps a URI line on one line and from looking like a tag or a
// comment.
func uriLine(u string) string {
	u = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, u)
	if strings.HasPrefix(u, "#") {
		u = "./" + u
	}
	return u
}
