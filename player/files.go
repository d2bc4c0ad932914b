package player

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// ErrNotBuilt means the file system holds no built pages (dist/ has only
// .gitkeep): the npm build has not run.
var ErrNotBuilt = errors.New("player: assets are not built: run make player")

// Cache-Control values.
const (
	// cacheImmutable is for assets whose name carries a content hash.
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheShort is for assets without a hash in the name.
	cacheShort = "public, max-age=300"
	// cacheHTML makes caches revalidate pages (cheap: they carry an ETag), so
	// a new build's hashed asset names are picked up at once.
	cacheHTML = "no-cache"
)

// Required pages in the build output.
const (
	pageIndex    = "index.html"
	pageWatch    = "watch.html"
	pageNotFound = "404.html"
)

// hashedName matches esbuild's "[name]-[hash].ext" output names.
var hashedName = regexp.MustCompile(`-[A-Z0-9]{8}\.[a-z0-9]+$`)

// contentTypes is fixed here rather than taken from the system MIME tables,
// so that every machine answers the same.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
}

// contentType returns the Content-Type for a file name.
func contentType(name string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return "application/octet-stream"
}

// file is one build output file, held in memory with its precomputed
// headers. The whole build is well under a megabyte.
type file struct {
	name  string // path inside the build output, e.g. "assets/watch-X.js"
	body  []byte
	gz    []byte // gzip-compressed body, nil when compression does not pay
	etag  string
	ctype string
	cache string
}

// newFile prepares a file for serving.
func newFile(name string, body []byte) (*file, error) {
	sum := sha256.Sum256(body)
	f := &file{
		name:  name,
		body:  body,
		etag:  `"` + hex.EncodeToString(sum[:12]) + `"`,
		ctype: contentType(name),
		cache: cacheShort,
	}
	switch {
	case strings.HasSuffix(name, ".html"):
		f.cache = cacheHTML
	case hashedName.MatchString(path.Base(name)):
		f.cache = cacheImmutable
	}
	if compressible(f.ctype) && len(body) > 512 {
		gz, err := gzipBytes(body)
		if err != nil {
			return nil, fmt.Errorf("player: compress %s: %w", name, err)
		}
		if len(gz) < len(body)*9/10 {
			f.gz = gz
		}
	}
	return f, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CheckBuilt reports ErrNotBuilt when fsys lacks the built pages.
func CheckBuilt(fsys fs.FS) error {
	for _, name := range []string{pageIndex, pageWatch} {
		if _, err := fs.Stat(fsys, name); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return ErrNotBuilt
			}
			return fmt.Errorf("player: %s: %w", name, err)
		}
	}
	return nil
}

// loadFiles reads every file of the build output except dot files, keyed by
// its path inside fsys.
func loadFiles(fsys fs.FS) (map[string]*file, error) {
	if err := CheckBuilt(fsys); err != nil {
		return nil, err
	}
	files := make(map[string]*file)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && name != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f, err := newFile(name, body)
		if err != nil {
			return err
		}
		files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("player: load assets: %w", err)
	}
	return files, nil
}
