package live

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// errBadQuery is the error of a malformed LL-HLS query; it is answered
// with 400.
var errBadQuery = errors.New("live: bad LL-HLS query")

// maxQueryLen bounds the raw query string of a playlist request.
const maxQueryLen = 2048

// hlsQuery holds the LL-HLS delivery directives of a media playlist
// request (draft-pantos-hls-rfc8216bis, 6.2.5).
type hlsQuery struct {
	block bool  // _HLS_msn given: a blocking reload
	msn   int64 // _HLS_msn
	part  int   // _HLS_part, or -1
	skip  bool  // _HLS_skip=YES or v2
}

// parseHLSQuery parses _HLS_msn, _HLS_part and _HLS_skip from a raw query
// string. Other parameters are ignored; a directive given twice, out of
// range or malformed is an error wrapping errBadQuery, as is _HLS_part
// without _HLS_msn.
func parseHLSQuery(raw string) (hlsQuery, error) {
	q := hlsQuery{part: -1}
	if raw == "" {
		return q, nil
	}
	if len(raw) > maxQueryLen {
		return q, fmt.Errorf("%w: query of %d bytes", errBadQuery, len(raw))
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, fmt.Errorf("%w: %v", errBadQuery, err)
	}
	one := func(name string) (string, bool, error) {
		v, ok := vals[name]
		if !ok {
			return "", false, nil
		}
		if len(v) != 1 {
			return "", false, fmt.Errorf("%w: %s given %d times", errBadQuery, name, len(v))
		}
		return v[0], true, nil
	}
	msn, hasMSN, err := one("_HLS_msn")
	if err != nil {
		return q, err
	}
	part, hasPart, err := one("_HLS_part")
	if err != nil {
		return q, err
	}
	skip, hasSkip, err := one("_HLS_skip")
	if err != nil {
		return q, err
	}
	if hasMSN {
		v, err := strconv.ParseInt(msn, 10, 64)
		if err != nil || v < 0 || v > maxMSN || msn[0] == '+' {
			return q, fmt.Errorf("%w: _HLS_msn=%q", errBadQuery, msn)
		}
		q.block, q.msn = true, v
	}
	if hasPart {
		v, err := strconv.Atoi(part)
		if err != nil || !hasMSN || v < 0 || v >= MaxPartsPerSegment || part[0] == '+' {
			return q, fmt.Errorf("%w: _HLS_part=%q (needs _HLS_msn)", errBadQuery, part)
		}
		q.part = v
	}
	if hasSkip {
		if skip != "YES" && skip != "v2" {
			return q, fmt.Errorf("%w: _HLS_skip=%q", errBadQuery, skip)
		}
		q.skip = true
	}
	return q, nil
}
