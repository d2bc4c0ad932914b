package segsource

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/classmesh/classmesh/internal/ident"
)

// Kind says which object of a rendition a SegmentRef names.
type Kind uint8

// Kinds. The zero Kind names nothing.
const (
	// KindInit is the CMAF init section, "init.mp4".
	KindInit Kind = iota + 1
	// KindSegment is a media segment, "seg-N.m4s".
	KindSegment
)

// Object names.
const (
	InitName  = "init.mp4"
	segPrefix = "seg-"
	segSuffix = ".m4s"
	// MaxSegments bounds segment numbers: seg-N.m4s with N < MaxSegments.
	MaxSegments = 1_000_000
)

// Parse errors.
var (
	// ErrNotObject means a file name is neither init.mp4 nor seg-N.m4s
	// (a 404 at the route).
	ErrNotObject = errors.New("segsource: not a segment or init name")
	// ErrBadName means a name has the shape seg-*.m4s but no valid number,
	// or an asset or rendition id breaks the identifier rule (a 400).
	ErrBadName = errors.New("segsource: bad segment name")
)

// SegmentRef names one object of a VOD rendition: its init section or
// one media segment. It is parsed once, where a request enters (Parse),
// and passed down; nothing below parses a file name again. A SegmentRef
// from Parse has valid ids (internal/ident) and a Number in
// [0, MaxSegments); whether the asset has that segment is the Source's
// question.
type SegmentRef struct {
	Asset, Rendition string
	Kind             Kind
	// Number is the 0-based segment number (KindSegment); 0 for KindInit.
	Number int
}

// Segment returns the ref of media segment n of asset/rendition.
func Segment(asset, rendition string, n int) SegmentRef {
	return SegmentRef{Asset: asset, Rendition: rendition, Kind: KindSegment, Number: n}
}

// Parse parses the file name of an object of asset/rendition:
// "init.mp4" or "seg-N.m4s", N in decimal without sign or leading zeros
// and below MaxSegments. A name of neither shape wraps ErrNotObject; a
// seg-*.m4s name without a valid number, or an invalid id, wraps
// ErrBadName.
func Parse(asset, rendition, name string) (SegmentRef, error) {
	if !ident.Valid(asset) || !ident.Valid(rendition) {
		return SegmentRef{}, fmt.Errorf("%w: bad asset or rendition id in %q/%q", ErrBadName, asset, rendition)
	}
	if name == InitName {
		return SegmentRef{Asset: asset, Rendition: rendition, Kind: KindInit}, nil
	}
	rest, isSeg := strings.CutPrefix(name, segPrefix)
	digits, hasSuffix := strings.CutSuffix(rest, segSuffix)
	if !isSeg || !hasSuffix {
		return SegmentRef{}, fmt.Errorf("%w: %q", ErrNotObject, name)
	}
	n, ok := parseNumber(digits)
	if !ok {
		return SegmentRef{}, fmt.Errorf("%w %q", ErrBadName, name)
	}
	return Segment(asset, rendition, n), nil
}

// parseNumber parses a segment number strictly: 1 to 7 decimal digits, no
// sign, no leading zero, below MaxSegments.
func parseNumber(digits string) (int, bool) {
	if digits == "" || len(digits) > 7 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n < MaxSegments
}

// Object returns the object's file name: "init.mp4" or "seg-N.m4s".
func (r SegmentRef) Object() string {
	if r.Kind == KindInit {
		return InitName
	}
	return segPrefix + strconv.Itoa(r.Number) + segSuffix
}

// Key returns the object's ring key, "asset/rendition/object": the key
// every node hashes to find the owner (cluster/fill.FillRequest.Key is the
// same string). The cache key adds the source's fingerprint
// (vod.Library.CacheKey).
func (r SegmentRef) Key() string {
	return r.Asset + "/" + r.Rendition + "/" + r.Object()
}

// String returns Key.
func (r SegmentRef) String() string { return r.Key() }
