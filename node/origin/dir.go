package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/classmesh/classmesh/internal/ident"
)

// Dir is an Origin backed by a local directory. All file access goes
// through an os.Root, so no path or symbolic link can reach a file outside
// the library: relative symbolic links that stay inside the root are
// followed, others (and all absolute ones) are refused. Dir is safe for
// concurrent use; Close releases the root.
//
// Identity is "size-mtimeUnixNano" taken at Open; a local file rewritten in
// place while open is not detected by ReadAt.
type Dir struct {
	dir    string // absolute, symlink-free path of the root
	root   *os.Root
	logger *slog.Logger
}

var _ Origin = (*Dir)(nil)

// NewDir opens the library rooted at root. A nil logger discards logs.
func NewDir(root string, logger *slog.Logger) (*Dir, error) {
	if logger == nil {
		logger = discard()
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("origin: dir %q: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("origin: dir %q: %w", root, err)
	}
	r, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("origin: dir %q: %w", root, err)
	}
	return &Dir{dir: real, root: r, logger: logger}, nil
}

// String returns "dir:" followed by the root's real path.
func (d *Dir) String() string { return "dir:" + d.dir }

// Close releases the root directory. Objects already opened stay usable.
func (d *Dir) Close() error { return d.root.Close() }

// List returns the assets of the library sorted by ID. Unreadable or
// invalid entries are skipped with a log line; only a failure to read the
// root itself is an error.
func (d *Dir) List(ctx context.Context) ([]AssetSpec, error) {
	entries, err := d.readDir(".")
	if err != nil {
		return nil, fmt.Errorf("origin: list %s: %w: %w", d.dir, ErrUnavailable, err)
	}
	var out []AssetSpec
	seen := make(map[string]bool)
	for _, name := range entries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("origin: list %s: %w", d.dir, err)
		}
		a, ok := d.asset(name)
		if !ok {
			continue
		}
		if seen[a.ID] {
			d.logger.Warn("origin: duplicate asset id skipped", "dir", d.dir, "entry", name)
			continue
		}
		seen[a.ID] = true
		out = append(out, a)
	}
	sortAssets(out)
	return out, nil
}

// readDir returns the sorted, non-hidden entry names of the directory rel.
func (d *Dir) readDir(rel string) ([]string, error) {
	f, err := d.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, ".") })
	slices.Sort(names)
	return names, nil
}

// asset turns the root entry name into an asset, or reports false.
func (d *Dir) asset(name string) (AssetSpec, bool) {
	fi, err := d.root.Stat(name) // follows symlinks, refuses escapes
	if err != nil {
		d.logger.Warn("origin: entry skipped", "dir", d.dir, "entry", name, "err", err)
		return AssetSpec{}, false
	}
	switch {
	case fi.IsDir():
		return d.dirAsset(name)
	case fi.Mode().IsRegular() && IsMP4Name(name):
		a := singleFileAsset(name)
		if !ValidID(a.ID) {
			d.logger.Warn("origin: invalid asset id skipped", "dir", d.dir, "entry", name, "rule", ident.Check(a.ID))
			return AssetSpec{}, false
		}
		return a, true
	}
	return AssetSpec{}, false
}

// dirAsset reads the subdirectory name as an asset.
func (d *Dir) dirAsset(name string) (AssetSpec, bool) {
	if !ValidID(name) {
		d.logger.Warn("origin: invalid asset id skipped", "dir", d.dir, "entry", name, "rule", ident.Check(name))
		return AssetSpec{}, false
	}
	names, err := d.readDir(name)
	if err != nil {
		d.logger.Warn("origin: asset skipped", "dir", d.dir, "asset", name, "err", err)
		return AssetSpec{}, false
	}
	a := AssetSpec{ID: name}
	var meta []byte
	for _, n := range names {
		rel := path.Join(name, n)
		if n == "asset.json" {
			meta = d.readMeta(rel)
			continue
		}
		if !IsMP4Name(n) {
			continue
		}
		if !ValidID(n) {
			d.logger.Warn("origin: invalid file name skipped", "dir", d.dir, "file", rel, "rule", ident.Check(n))
			continue
		}
		if fi, err := d.root.Stat(rel); err != nil || !fi.Mode().IsRegular() {
			d.logger.Warn("origin: file skipped", "dir", d.dir, "file", rel, "err", err)
			continue
		}
		a.Files = append(a.Files, rel)
	}
	if len(a.Files) == 0 {
		d.logger.Debug("origin: directory without MP4 files skipped", "dir", d.dir, "entry", name)
		return AssetSpec{}, false
	}
	applyMeta(&a, meta, d.logger)
	return a, true
}

// readMeta reads asset.json at rel; nil if it cannot be read.
func (d *Dir) readMeta(rel string) []byte {
	f, err := d.root.Open(rel)
	if err != nil {
		d.logger.Warn("origin: asset.json unreadable", "dir", d.dir, "file", rel, "err", err)
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAssetJSON+1))
	if err != nil || len(data) > maxAssetJSON {
		d.logger.Warn("origin: asset.json unreadable or too large", "dir", d.dir, "file", rel, "err", err)
		return nil
	}
	return data
}

// Open opens the regular file at the library-relative path p.
func (d *Dir) Open(ctx context.Context, p string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("origin: open %q: %w", p, err)
	}
	if _, err := CleanPath(p); err != nil {
		return nil, err
	}
	f, err := d.root.Open(filepath.FromSlash(p))
	if err != nil {
		return nil, d.openErr(p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("origin: open %q: %w: %w", p, ErrUnavailable, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("origin: open %q: not a regular file: %w", p, ErrNotFound)
	}
	id := strconv.FormatInt(fi.Size(), 10) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
	return &fileObject{f: f, size: fi.Size(), id: id}, nil
}

// openErr maps an os.Root open error to the package's sentinels.
func (d *Dir) openErr(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("origin: open %q: %w: %w", p, ErrNotFound, err)
	}
	// os.Root reports escapes with a plain error, I/O problems with an
	// errno. It also refuses absolute symbolic links, even ones that
	// point inside the root.
	var errno syscall.Errno
	if d.escapes(p) || !errors.As(err, &errno) {
		return fmt.Errorf("origin: open %q: outside the library: %w: %w", p, ErrBadPath, err)
	}
	return fmt.Errorf("origin: open %q: %w: %w", p, ErrUnavailable, err)
}

// escapes reports whether p resolves (through symbolic links) to a location
// outside the root. It only classifies errors; os.Root enforces the rule.
func (d *Dir) escapes(p string) bool {
	real, err := filepath.EvalSymlinks(filepath.Join(d.dir, filepath.FromSlash(p)))
	if err != nil {
		return true
	}
	rel, err := filepath.Rel(d.dir, real)
	return err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// fileObject is an Object backed by an open local file.
type fileObject struct {
	f    *os.File
	size int64
	id   string
}

func (o *fileObject) ReadAt(p []byte, off int64) (int, error) { return o.f.ReadAt(p, off) }
func (o *fileObject) Size() int64                             { return o.size }
func (o *fileObject) Identity() string                        { return o.id }
func (o *fileObject) Close() error                            { return o.f.Close() }
