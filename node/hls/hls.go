// Package hls writes HTTP Live Streaming playlists (RFC 8216 and
// draft-pantos-hls-rfc8216bis): the multivariant ("master") playlist of an
// asset and the VOD media playlist of one rendition packaged as CMAF
// (fragmented MP4 with an EXT-X-MAP init section).
//
// The package is pure: it formats values into bytes and does no I/O beyond
// an io.Writer. Output is deterministic: attributes are always written in
// the same order and numbers in the same format, so the same input always
// gives the same bytes (playlists are cached and compared by ETag).
//
// Every URI is written exactly as given; callers pass relative URIs so
// that a URL prefix (for example a token path segment) carries over to
// every file the player fetches.
package hls

import (
	"math"
	"strconv"
	"strings"
)

// Playlist versions (RFC 8216 section 7).
const (
	// versionMultivariant is the lowest version covering every tag and
	// attribute the multivariant playlist writer emits: none of them
	// (EXT-X-MEDIA without INSTREAM-ID SERVICE values, CODECS,
	// AVERAGE-BANDWIDTH, FRAME-RATE, CHANNELS, EXT-X-INDEPENDENT-SEGMENTS)
	// needs more than version 1, so no EXT-X-VERSION tag is written.
	versionMultivariant = 1
	// versionMedia: floating-point EXTINF needs 3 and EXT-X-MAP in a media
	// playlist without EXT-X-I-FRAMES-ONLY needs 6. classmesh declares 7,
	// the version of the CMAF/fMP4 profile its live playlists will share
	// (a product decision: one version for every media playlist we write).
	versionMedia = 7
)

// FormatDuration formats seconds for EXTINF: fixed point with six
// decimals, trailing zeros (and a trailing dot) trimmed. Microsecond
// precision keeps the sum of EXTINF values within a few microseconds of the
// track duration even for long assets.
func FormatDuration(seconds float64) string {
	if seconds < 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		seconds = 0
	}
	s := strconv.FormatFloat(seconds, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// TargetDuration returns the EXT-X-TARGETDURATION for segments of the given
// durations in seconds: the smallest integer that every duration, rounded
// to the nearest integer (halves up), does not exceed (RFC 8216 section
// 4.3.3.1). It is at least 1.
func TargetDuration(durations []float64) int {
	target := 1
	for _, d := range durations {
		// Round the value that is actually written, so the check a
		// client performs on the EXTINF text agrees with ours.
		v, err := strconv.ParseFloat(FormatDuration(d), 64)
		if err != nil {
			continue
		}
		if r := int(math.Floor(v + 0.5)); r > target {
			target = r
		}
	}
	return target
}

// quote makes s safe inside a quoted-string attribute value: a
// quoted-string cannot contain a double quote, CR or LF, so double quotes
// become single quotes and control characters are dropped.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteByte('\'')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// dropped: RFC 8216 section 4.1 forbids control characters
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// attrs builds an attribute-list: NAME=value pairs separated by commas,
// in the order they are added.
type attrs struct{ b []byte }

func (a *attrs) sep(name string) {
	if len(a.b) > 0 {
		a.b = append(a.b, ',')
	}
	a.b = append(a.b, name...)
	a.b = append(a.b, '=')
}

// quoted adds a quoted-string attribute.
func (a *attrs) quoted(name, v string) {
	a.sep(name)
	a.b = append(a.b, quote(v)...)
}

// enum adds an enumerated-string attribute (unquoted).
func (a *attrs) enum(name, v string) {
	a.sep(name)
	a.b = append(a.b, v...)
}

// integer adds a decimal-integer attribute.
func (a *attrs) integer(name string, v int64) {
	a.sep(name)
	a.b = strconv.AppendInt(a.b, v, 10)
}

// yesNo adds a YES/NO enumerated-string attribute.
func (a *attrs) yesNo(name string, v bool) {
	if v {
		a.enum(name, "YES")
	} else {
		a.enum(name, "NO")
	}
}
