// Package httprange parses HTTP Range request headers (RFC 9110 §14.1.2)
// with the limits every classmesh path that serves byte ranges applies, so
// that a request cannot make a cheap response expensive.
//
// The rules, in order:
//
//   - A header that is not "bytes=" followed by a list of byte ranges is
//     ignored (ErrSyntax): the whole representation is sent with 200, as
//     RFC 9110 §14.2 allows.
//   - Ranges that start at or past the end, and the empty suffix "-0", are
//     unsatisfiable and dropped. When none is left the answer is 416 with
//     "Content-Range: bytes */SIZE" (ErrUnsatisfiable).
//   - The rest are sorted and overlapping or adjacent ones are merged into
//     one (§14.2 allows coalescing), so no byte is sent twice.
//   - More than MaxParts ranges after merging, or more than MaxListed in the
//     header, are ignored (ErrTooMany): the answer is the whole body with
//     200, which costs no more than the body itself. A 60 000-part header
//     no longer turns a 2 MB segment into 7.6 MB of multipart output.
//
// Parse is the one decoder; Apply puts its verdict on a request before
// http.ServeContent runs.
package httprange

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Limits.
const (
	// MaxParts is the most ranges served in one multipart answer.
	MaxParts = 16
	// MaxListed is the most ranges read from one header; a longer list is
	// ignored without sorting it.
	MaxListed = 256
)

// Sentinel errors of Parse.
var (
	// ErrSyntax: the header is not a byte-range set; ignore it (200).
	ErrSyntax = errors.New("httprange: malformed Range header")
	// ErrUnsatisfiable: no range overlaps the representation (416).
	ErrUnsatisfiable = errors.New("httprange: range not satisfiable")
	// ErrTooMany: too many ranges; ignore the header (200).
	ErrTooMany = errors.New("httprange: too many ranges")
)

// Range is a satisfiable byte range: Length > 0 and Start+Length <= size.
type Range struct {
	Start, Length int64
}

// end is one past the last byte.
func (r Range) end() int64 { return r.Start + r.Length }

// Parse parses a Range header value for a representation of size bytes.
// On success the ranges are non-empty, sorted, disjoint and non-adjacent,
// at most MaxParts of them.
func Parse(header string, size int64) ([]Range, error) {
	unit, set, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, ErrSyntax
	}
	var out []Range
	listed := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		if listed++; listed > MaxListed {
			return nil, ErrTooMany
		}
		first, last, ok := strings.Cut(spec, "-")
		if !ok {
			return nil, ErrSyntax
		}
		switch {
		case first == "": // suffix: the last N bytes
			n, ok := digits(last)
			if !ok {
				return nil, ErrSyntax
			}
			if n == 0 || size == 0 {
				continue // unsatisfiable
			}
			n = min(n, size)
			out = append(out, Range{Start: size - n, Length: n})
		default:
			f, ok := digits(first)
			if !ok {
				return nil, ErrSyntax
			}
			l := int64(-1) // open: to the end
			if last != "" {
				if l, ok = digits(last); !ok || l < f {
					return nil, ErrSyntax
				}
			}
			if f >= size {
				continue // unsatisfiable
			}
			if l < 0 || l >= size {
				l = size - 1
			}
			out = append(out, Range{Start: f, Length: l - f + 1})
		}
	}
	if listed == 0 {
		return nil, ErrSyntax
	}
	if len(out) == 0 {
		return nil, ErrUnsatisfiable
	}
	out = coalesce(out)
	if len(out) > MaxParts {
		return nil, ErrTooMany
	}
	return out, nil
}

// digits parses a non-empty run of ASCII digits (no sign, no spaces).
func digits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// coalesce sorts rs and merges ranges that overlap or touch.
func coalesce(rs []Range) []Range {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Start <= last.end() {
			last.Length = max(last.end(), r.end()) - last.Start
			continue
		}
		out = append(out, r)
	}
	return out
}

// Format writes ranges back as a header value ("bytes=0-99,200-299").
func Format(rs []Range) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.Start, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(r.end()-1, 10))
	}
	return b.String()
}

// Verdict is what Apply did with a request's Range header.
type Verdict int

// Verdicts.
const (
	None          Verdict = iota // no Range header, or If-Range did not match
	Ranges                       // satisfiable ranges, rewritten in canonical form
	Ignored                      // malformed or too many: the whole body with 200
	Unsatisfiable                // answered 416
)

// Apply checks r's Range header against a representation of size bytes
// whose strong ETag is already set on w, before http.ServeContent serves
// it. It answers 416 itself (with Content-Range: bytes */size) and returns
// Unsatisfiable; otherwise it leaves r with either no Range header or the
// canonical, coalesced one, for http.ServeContent to serve. An If-Range
// that does not name the current ETag makes the Range void (RFC 9110
// §13.1.5). Range applies to GET only; other methods have it removed.
//
// A 416 goes out before If-Match and If-Unmodified-Since are evaluated;
// classmesh's bodies are immutable, so those preconditions either hold or
// name another representation, for which 416 is no worse an answer.
func Apply(w http.ResponseWriter, r *http.Request, size int64) Verdict {
	header := r.Header.Get("Range")
	if header == "" {
		return None
	}
	if ir := r.Header.Get("If-Range"); (ir != "" && ir != w.Header().Get("ETag")) || r.Method != http.MethodGet {
		r.Header.Del("Range")
		return None
	}
	rs, err := Parse(header, size)
	switch {
	case errors.Is(err, ErrUnsatisfiable):
		h := w.Header()
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Del("Content-Length")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		_, _ = w.Write([]byte("range not satisfiable\n"))
		return Unsatisfiable
	case err != nil:
		r.Header.Del("Range")
		return Ignored
	}
	r.Header.Set("Range", Format(rs))
	return Ranges
}
