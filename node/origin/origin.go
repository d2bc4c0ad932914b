// Package origin gives access to a media library: a local directory or the
// same layout on an HTTP server that honours Range requests.
//
// Layout: each subdirectory of the root is an asset whose renditions are the
// MP4 files inside it, with an optional asset.json holding
// {"title": "...", "description": "..."}; an MP4 file directly in the root
// is a one-rendition asset named after the file. MP4 files are those
// ending in .mp4, .m4v or .mov (any case); hidden names (leading ".") and
// names outside [A-Za-z0-9._-] are skipped when listing.
//
// NewDir serves a local directory through os.Root. NewHTTP serves the same
// layout from a web server: listing reads {base}/assets.json when present
// (see HTTP.List) or else the server's HTML directory indexes, and objects
// are read with Range requests in aligned blocks kept in a small per-object
// cache. NewUnion mounts several origins under prefixes (the media library
// beside the live recordings). The media of other nodes is the subpackage
// remote (node/origin/remote), the same Origin over the cluster's QUIC
// transport.
package origin

import (
	"context"
	"errors"
	"io"
)

// Errors returned by origins.
var (
	// ErrNotFound means the path does not exist in the library.
	ErrNotFound = errors.New("origin: not found")
	// ErrBadPath means the path is not a clean relative path inside the
	// library (traversal, absolute path, NUL, backslash).
	ErrBadPath = errors.New("origin: bad path")
	// ErrUnavailable means the origin could not be reached or answered with
	// an error. Timeouts also wrap context.DeadlineExceeded.
	ErrUnavailable = errors.New("origin: unavailable")
	// ErrChanged means a remote file changed while an Object was reading
	// it (its ETag, Last-Modified or size moved). The Object must be
	// reopened. Errors wrapping ErrChanged also wrap ErrUnavailable.
	ErrChanged = errors.New("origin: object changed")
)

// AssetSpec is one asset found in the library layout.
type AssetSpec struct {
	// ID is the subdirectory name, or the file name without ".mp4" for a
	// single-file asset. Only [A-Za-z0-9._-] characters; never "." or "..".
	ID string
	// Title and Description come from asset.json; Title defaults to ID.
	Title       string
	Description string
	// Files are the MP4 files of the asset as slash-separated paths
	// relative to the library root, sorted.
	Files []string
}

// Object is one opened media file. ReadAt may be called concurrently.
type Object interface {
	io.ReaderAt
	// Size is the file's length in bytes.
	Size() int64
	// Identity changes whenever the file's content may have changed:
	// "size-mtime" for local files, the ETag (or size and Last-Modified)
	// for HTTP.
	Identity() string
	Close() error
}

// Origin is a media library.
type Origin interface {
	// List returns the assets of the library sorted by ID.
	List(ctx context.Context) ([]AssetSpec, error)
	// Open opens a file by its library-relative path.
	Open(ctx context.Context, path string) (Object, error)
	// String describes the origin for logs ("dir:/srv/media").
	String() string
}
