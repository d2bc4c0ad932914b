package origin

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/classmesh/classmesh/internal/ident"
)

// maxPathLen bounds library-relative paths accepted by Open.
const maxPathLen = 1024

// CleanPath checks that p is a clean, relative, slash-separated path inside
// the library and returns it unchanged. It rejects the empty path, absolute
// paths, empty segments (including a trailing slash), "." and ".."
// segments, hidden segments (starting with "."), backslashes, NUL and other
// control characters, and invalid UTF-8. Every error wraps ErrBadPath.
//
// Percent-decoding is the caller's job: "%2e%2e" is accepted here as a
// literal file name, which cannot escape the root.
func CleanPath(p string) (string, error) {
	if err := checkPath(p); err != nil {
		return "", fmt.Errorf("%w: %q: %s", ErrBadPath, truncate(p, 80), err)
	}
	return p, nil
}

// checkPath returns a short reason why p is not acceptable, or nil.
func checkPath(p string) error {
	switch {
	case p == "":
		return errReason("empty path")
	case len(p) > maxPathLen:
		return errReason("path too long")
	case !utf8.ValidString(p):
		return errReason("invalid UTF-8")
	case p[0] == '/':
		return errReason("absolute path")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x20 || c == 0x7f {
			return errReason("control character")
		}
		if c == '\\' {
			return errReason("backslash")
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			return errReason("empty segment")
		case seg == "." || seg == "..":
			return errReason("dot segment")
		case seg[0] == '.':
			return errReason("hidden segment")
		}
	}
	if path.Clean(p) != p { // unreachable after the checks above; kept as a guard
		return errReason("not clean")
	}
	return nil
}

type errReason string

func (e errReason) Error() string { return string(e) }

// ValidID reports whether id can name an asset or a rendition file: the
// one identifier rule of internal/ident (1-128 bytes of [A-Za-z0-9._-],
// starting with a letter, a digit or '_'), the same rule the HTTP routes
// and the catalog apply, so every indexed asset is servable and registrable.
func ValidID(id string) bool { return ident.Valid(id) }

// IsMP4Name reports whether name has an MP4 extension (.mp4, .m4v, .mov,
// case-insensitive).
func IsMP4Name(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp4", ".m4v", ".mov":
		return true
	}
	return false
}

// idFromFile returns the asset ID of a single-file asset: name without its
// extension.
func idFromFile(name string) string {
	return strings.TrimSuffix(name, path.Ext(name))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
