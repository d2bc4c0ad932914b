package origin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/classmesh/classmesh/internal/ident"
)

// Size limits for metadata documents read from a library.
const (
	maxAssetJSON = 64 << 10 // asset.json
	maxManifest  = 4 << 20  // assets.json
	maxIndexHTML = 4 << 20  // HTML directory index
)

// assetMeta is the content of an asset's optional asset.json.
type assetMeta struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// parseAssetMeta decodes asset.json. Unknown fields are ignored.
func parseAssetMeta(data []byte) (assetMeta, error) {
	var m assetMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return assetMeta{}, fmt.Errorf("origin: asset.json: %w", err)
	}
	m.Title = strings.TrimSpace(m.Title)
	m.Description = strings.TrimSpace(m.Description)
	return m, nil
}

// applyMeta fills the title and description of a from data (the content of
// asset.json, nil when absent). A malformed document is logged and ignored.
func applyMeta(a *AssetSpec, data []byte, logger *slog.Logger) {
	a.Title = a.ID
	if data == nil {
		return
	}
	m, err := parseAssetMeta(data)
	if err != nil {
		logger.Warn("origin: ignoring malformed asset.json", "asset", a.ID, "err", err)
		return
	}
	if m.Title != "" {
		a.Title = m.Title
	}
	a.Description = m.Description
}

// manifestEntry is one element of an HTTP library's assets.json; the
// format is documented on HTTP.List.
type manifestEntry struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Files       []string `json:"files"`
}

// parseManifest decodes assets.json into asset specs sorted by ID. Only a
// document that is not a JSON array of objects is an error.
func parseManifest(data []byte, logger *slog.Logger) ([]AssetSpec, error) {
	if logger == nil {
		logger = discard()
	}
	var entries []manifestEntry
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("origin: assets.json: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("origin: assets.json: trailing data after array")
	}
	seen := make(map[string]bool, len(entries))
	out := make([]AssetSpec, 0, len(entries))
	for _, e := range entries {
		a, ok := manifestAsset(e, logger)
		if !ok {
			continue
		}
		if seen[a.ID] {
			logger.Warn("origin: assets.json: duplicate asset skipped", "asset", a.ID)
			continue
		}
		seen[a.ID] = true
		out = append(out, a)
	}
	sortAssets(out)
	return out, nil
}

// manifestAsset validates one manifest entry.
func manifestAsset(e manifestEntry, logger *slog.Logger) (AssetSpec, bool) {
	if !ValidID(e.ID) {
		logger.Warn("origin: assets.json: invalid asset id skipped", "id", truncate(e.ID, 80), "rule", ident.Check(e.ID))
		return AssetSpec{}, false
	}
	a := AssetSpec{ID: e.ID, Title: strings.TrimSpace(e.Title), Description: strings.TrimSpace(e.Description)}
	if a.Title == "" {
		a.Title = a.ID
	}
	for _, f := range e.Files {
		if _, err := CleanPath(f); err != nil || !IsMP4Name(f) {
			logger.Warn("origin: assets.json: invalid file skipped", "asset", e.ID, "file", truncate(f, 80))
			continue
		}
		a.Files = append(a.Files, f)
	}
	slices.Sort(a.Files)
	a.Files = slices.Compact(a.Files)
	if len(a.Files) == 0 {
		logger.Warn("origin: assets.json: asset without files skipped", "asset", e.ID)
		return AssetSpec{}, false
	}
	return a, true
}

// sortAssets sorts assets by ID.
func sortAssets(as []AssetSpec) {
	slices.SortFunc(as, func(a, b AssetSpec) int { return strings.Compare(a.ID, b.ID) })
}

// singleFileAsset returns the asset for an MP4 file directly in the root.
func singleFileAsset(name string) AssetSpec {
	id := idFromFile(name)
	return AssetSpec{ID: id, Title: id, Files: []string{path.Clean(name)}}
}

// discard returns a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
