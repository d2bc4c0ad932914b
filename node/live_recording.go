package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/classmesh/classmesh/node/live"
	"github.com/classmesh/classmesh/node/origin"
)

// recordingsOrigin mounts finished recordings beside the media library.
func (n *Node) recordingsOrigin(o origin.Origin) (origin.Origin, error) {
	dir := filepath.Join(n.cfg.DataDir, recordingsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("node: recordings: %w", err)
	}
	rec, err := origin.NewDir(dir, n.logger.With("part", "recordings"))
	if err != nil {
		return nil, err
	}
	return origin.NewUnion(origin.Mount{Origin: o}, origin.Mount{Prefix: recordingsPrefix, Origin: rec})
}

// adoptRecording moves a finished recording into the library and
// registers it; it returns the asset id, or "" when there is none. The
// live bridge calls it (livebridge.Config.Adopt) when a session published
// here ends.
func (n *Node) adoptRecording(id string, rec live.Recording) string {
	if rec.Dir == "" || len(rec.Files) == 0 {
		return ""
	}
	if rec.Err != nil {
		n.logger.Warn("node: recording incomplete", "session", id, "err", rec.Err)
	}
	asset := filepath.Base(rec.Dir)
	dst := filepath.Join(n.cfg.DataDir, recordingsDir, asset)
	meta, _ := json.Marshal(map[string]string{"title": "Recording of " + id})
	if err := os.WriteFile(filepath.Join(rec.Dir, "asset.json"), meta, 0o644); err != nil {
		n.logger.Warn("node: recording metadata", "session", id, "err", err)
	}
	if err := os.Rename(rec.Dir, dst); err != nil {
		n.logger.Error("node: cannot move the recording into the library", "session", id, "err", err)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.library.Refresh(ctx); err != nil {
		n.logger.Warn("node: index recording", "session", id, "err", err)
	}
	if a, ok := n.library.Asset(asset); !ok || a.Status != "ready" {
		n.logger.Warn("node: recording is not a playable asset", "session", id, "asset", asset)
	}
	n.assetsDirty.Store(true) // registered in the catalog by the raft loop
	n.logger.Info("node: recording is an asset", "session", id, "asset", asset, "duration", rec.Duration)
	return asset
}
