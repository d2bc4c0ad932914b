package origin

import (
	"context"
	"fmt"
	"net/url"
	"path"

	"github.com/classmesh/classmesh/internal/ident"
)

// List returns the assets of the library sorted by ID.
//
// When the server has {base}/assets.json (a 403, 404 or 410 means it has
// not), List reads only that manifest, a JSON array of assets:
//
//	[
//	  {"id": "demo", "title": "Demo lecture", "description": "...",
//	   "files": ["demo/240p.mp4", "demo/720p.mp4"]}
//	]
//
// id must satisfy ValidID; files are library-relative paths accepted by
// CleanPath with an MP4 extension; title defaults to id. Unknown fields
// are ignored; invalid or duplicate entries and files are skipped with a
// log line. A document that is not such an array fails the listing.
//
// Otherwise List parses the HTML directory index at the base (nginx
// autoindex, Apache, python http.server, Go's http.FileServer) and, one
// level deep, the index of each subdirectory and its asset.json when the
// index lists one. A subdirectory without an index (403/404) is skipped
// with a log line; any other failure fails the whole listing, so that a
// flaky server never yields a partial catalogue.
func (h *HTTP) List(ctx context.Context) ([]AssetSpec, error) {
	data, found, err := h.get(ctx, h.base.String()+"assets.json", maxManifest)
	if err != nil {
		return nil, fmt.Errorf("origin: list %s: %w", h.base, err)
	}
	if found {
		specs, err := parseManifest(data, h.cfg.Logger)
		if err != nil {
			return nil, fmt.Errorf("origin: list %s: %w: %w", h.base, ErrUnavailable, err)
		}
		return specs, nil
	}
	return h.listIndex(ctx)
}

// listIndex lists the library from HTML directory indexes.
func (h *HTTP) listIndex(ctx context.Context) ([]AssetSpec, error) {
	body, found, err := h.get(ctx, h.base.String(), maxIndexHTML)
	if err != nil {
		return nil, fmt.Errorf("origin: list %s: %w", h.base, err)
	}
	if !found {
		return nil, fmt.Errorf("origin: list %s: no assets.json and no directory index: %w", h.base, ErrUnavailable)
	}
	var out []AssetSpec
	seen := make(map[string]bool)
	for _, e := range parseIndex(body, h.base) {
		a, ok, err := h.indexAsset(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("origin: list %s: %w", h.base, err)
		}
		if !ok {
			continue
		}
		if seen[a.ID] {
			h.cfg.Logger.Warn("origin: duplicate asset id skipped", "origin", h.String(), "entry", e.Name)
			continue
		}
		seen[a.ID] = true
		out = append(out, a)
	}
	sortAssets(out)
	return out, nil
}

// indexAsset turns an entry of the root index into an asset.
func (h *HTTP) indexAsset(ctx context.Context, e indexEntry) (AssetSpec, bool, error) {
	if !e.Dir {
		if !IsMP4Name(e.Name) {
			return AssetSpec{}, false, nil
		}
		a := singleFileAsset(e.Name)
		if !ValidID(a.ID) {
			h.cfg.Logger.Warn("origin: invalid asset id skipped", "origin", h.String(), "entry", e.Name, "rule", ident.Check(a.ID))
			return AssetSpec{}, false, nil
		}
		return a, true, nil
	}
	if !ValidID(e.Name) {
		h.cfg.Logger.Warn("origin: invalid asset id skipped", "origin", h.String(), "entry", e.Name, "rule", ident.Check(e.Name))
		return AssetSpec{}, false, nil
	}
	return h.dirAsset(ctx, e.Name)
}

// dirAsset reads the index of the subdirectory name.
func (h *HTTP) dirAsset(ctx context.Context, name string) (AssetSpec, bool, error) {
	dir := h.base.ResolveReference(&url.URL{Path: name + "/"})
	body, found, err := h.get(ctx, dir.String(), maxIndexHTML)
	if err != nil {
		return AssetSpec{}, false, err
	}
	if !found {
		h.cfg.Logger.Warn("origin: asset directory without index skipped", "origin", h.String(), "asset", name)
		return AssetSpec{}, false, nil
	}
	a := AssetSpec{ID: name}
	hasMeta := false
	for _, e := range parseIndex(body, dir) {
		switch {
		case e.Dir:
		case e.Name == "asset.json":
			hasMeta = true
		case !IsMP4Name(e.Name):
		case !ValidID(e.Name):
			h.cfg.Logger.Warn("origin: invalid file name skipped", "origin", h.String(), "asset", name, "file", e.Name, "rule", ident.Check(e.Name))
		default:
			a.Files = append(a.Files, path.Join(name, e.Name))
		}
	}
	if len(a.Files) == 0 {
		h.cfg.Logger.Debug("origin: directory without MP4 files skipped", "origin", h.String(), "asset", name)
		return AssetSpec{}, false, nil
	}
	var meta []byte
	if hasMeta {
		data, found, err := h.get(ctx, h.urlOf(path.Join(name, "asset.json")), maxAssetJSON)
		if err != nil {
			return AssetSpec{}, false, err
		}
		if found {
			meta = data
		}
	}
	applyMeta(&a, meta, h.cfg.Logger)
	return a, true, nil
}
