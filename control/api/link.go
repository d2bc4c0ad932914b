package api

import (
	"github.com/classmesh/classmesh/control"
)

// Linking an asset into a course (a lesson's asset_id, a session's
// recording_asset) needs rights on the course that owns the asset
// (control.Store.AssetOwner): an admin may link any asset; an instructor
// only the assets of a course their token lists. An asset with no owner
// can only be linked by an admin. Without this an instructor of a public
// course could link a private course's asset into a lesson and make it
// public, or take over signing for it.
//
// The check reads the local replica before proposing; an admin changing
// the owner at the same moment can still race it, and the link then
// points to an asset the instructor cannot sign for: no media becomes
// readable that was not.

// linkedAsset returns the asset a lesson or session body links ("" for
// other kinds or none).
func linkedAsset(v any) (field, asset string) {
	switch b := v.(type) {
	case *control.Lesson:
		return "asset_id", b.AssetID
	case *control.LiveSession:
		return "recording_asset", b.RecordingAssetID
	}
	return "", ""
}

// linkedAssetOf returns the asset a stored lesson or session links.
func linkedAssetOf(info recordInfo) string {
	if info.AssetID != "" {
		return info.AssetID
	}
	return info.RecordingAsset
}

// checkLink checks that p may link asset through field.
func (h *handler) checkLink(p Principal, field, asset string) error {
	if asset == "" || p.Admin() {
		return nil
	}
	owner, err := h.cfg.Reader.AssetOwner(asset)
	switch {
	case errIsNotFound(err):
		return &control.Error{Code: control.CodeRefMissing, Field: field, Message: "asset " + asset + " does not exist"}
	case err != nil:
		return err
	case owner == "":
		h.countRefusal("link_no_owner")
		h.log.Info("api: link refused", "token", p.TokenID, "asset", asset, "reason", "no owner")
		return deny(p, "asset %q belongs to no course: only an admin may link it (or give it an owner with course_id)", asset)
	case !p.Teaches(owner):
		h.countRefusal("link_not_owner")
		h.log.Info("api: link refused", "token", p.TokenID, "asset", asset, "owner", owner)
		return deny(p, "asset %q belongs to course %q, which this token is not scoped to", asset, owner)
	}
	return nil
}

// checkNewLink checks the asset body links when it differs from what the
// current record (nil on create) links.
func (h *handler) checkNewLink(p Principal, body any, cur *recordInfo) error {
	field, asset := linkedAsset(body)
	if asset == "" || cur != nil && linkedAssetOf(*cur) == asset {
		return nil
	}
	return h.checkLink(p, field, asset)
}

// refusalCounter is implemented by *control.Store (metrics of refusals).
type refusalCounter interface {
	CountRefusal(reason string)
}

func (h *handler) countRefusal(reason string) {
	if c, ok := h.cfg.Reader.(refusalCounter); ok {
		c.CountRefusal(reason)
	}
}
