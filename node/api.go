package node

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/node/vod"
)

// assetAPI serves this node's part of /api/v1: the asset reads (what
// this node packages, merged with the catalog's records and filtered by
// the access policy), POST /api/v1/playback-tokens (api_catalog.go) and
// the catalog API of control/api mounted under /api/v1/. The node builds
// one in routes, once the catalog is open.
type assetAPI struct {
	library   *vod.Library
	catalog   *control.Store
	forwarder *control.Forwarder
	access    *mediaAccess
	logger    *slog.Logger
}

func toAssetJSON(a *vod.Asset) api.AssetView {
	out := api.AssetView{
		ID:          a.ID,
		Title:       a.Title,
		Description: a.Description,
		Status:      a.Status,
		Reason:      a.Reason,
		Duration:    a.Duration.Seconds(),
		Renditions:  []api.RenditionView{},
		Packaged:    true,
	}
	if a.Status == vod.StatusReady {
		out.Master = fmt.Sprintf("/v/%s/master.m3u8", a.ID)
	}
	for _, r := range a.Renditions {
		out.Renditions = append(out.Renditions, api.RenditionView{
			ID:               r.ID,
			Kind:             r.Kind.String(),
			Codec:            r.Codec,
			Width:            r.Width,
			Height:           r.Height,
			FrameRate:        r.FrameRate,
			Language:         r.Language,
			Channels:         r.Channels,
			SampleRate:       r.SampleRate,
			Bandwidth:        r.Bandwidth,
			AverageBandwidth: r.AverageBandwidth,
			Segments:         len(r.Segments),
			Playlist:         fmt.Sprintf("/v/%s/%s/media.m3u8", a.ID, r.ID),
		})
	}
	return out
}

// assetVisibility says which asset records a request may see: assets
// that play freely to anyone; every asset to an admin; an instructor also
// the assets of the courses they teach. A private asset's title and
// renditions are not media, but they name a course's lectures, so they
// stay as private as the media (docs/security.md).
//
// On /t/{token}/api/v1/assets/{id} (the signed player page) the playback
// token decides, exactly as for the asset's media.
func (n *assetAPI) assetVisibility(r *http.Request) func(id string) bool {
	pol := n.access.policy()
	if tok := r.PathValue("token"); tok != "" {
		return func(id string) bool {
			return pol.Check(access.Request{Asset: id, Token: tok, Client: clientAddr(r)}).Allow
		}
	}
	p, err := tokenAuth(n.catalog, n.forwarder).Authenticate(r)
	if err != nil {
		p = api.Principal{Anonymous: true}
	}
	return func(id string) bool {
		if pol.PublicAsset(id) || p.Admin() {
			return true
		}
		return !p.Anonymous && slices.ContainsFunc(pol.Courses(id), p.Teaches)
	}
}

func (n *assetAPI) handleAssets(w http.ResponseWriter, r *http.Request) {
	visible := n.assetVisibility(r)
	byID := map[string]*api.AssetView{}
	var order []string
	for _, a := range n.library.Assets() {
		j := toAssetJSON(a)
		byID[a.ID] = &j
		order = append(order, a.ID)
	}
	if n.catalog != nil {
		recs, err := n.catalog.Assets()
		if err != nil {
			httpx.APIError(w, http.StatusServiceUnavailable, "catalog: "+err.Error())
			return
		}
		for _, rec := range recs {
			j, ok := byID[rec.ID]
			if !ok {
				c := catalogAssetJSON(rec)
				j = &c
				byID[rec.ID] = j
				order = append(order, rec.ID)
			}
			mergeCatalog(j, rec)
		}
	}
	sort.Strings(order)
	out := make([]api.AssetView, 0, len(order))
	for _, id := range order {
		if visible(id) {
			out = append(out, *byID[id])
		}
	}
	httpx.JSON(w, http.StatusOK, out)
}

// catalogAssetJSON shows an asset this node does not package.
func catalogAssetJSON(rec control.Asset) api.AssetView {
	out := api.AssetView{ID: rec.ID, Title: rec.Title, Status: rec.Status, Reason: rec.Reason,
		Duration: rec.Duration, Renditions: []api.RenditionView{}}
	for _, r := range rec.Renditions {
		out.Renditions = append(out.Renditions, api.RenditionView{ID: r.Name, Codec: r.Codecs,
			Width: r.Width, Height: r.Height, Bandwidth: int64(r.Bitrate)})
	}
	if rec.Status == control.AssetReady {
		out.Master = fmt.Sprintf("/v/%s/master.m3u8", rec.ID)
	}
	return out
}

func mergeCatalog(j *api.AssetView, rec control.Asset) {
	j.Source, j.Revision = rec.Source, rec.Revision
	if !rec.UpdatedAt.IsZero() {
		t := rec.UpdatedAt
		j.UpdatedAt = &t
	}
	if rec.Title != "" {
		j.Title = rec.Title
	}
}

func (n *assetAPI) handleAsset(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		httpx.APIError(w, http.StatusBadRequest, "bad asset id")
		return
	}
	if !n.assetVisibility(r)(id) {
		// The same answer as for an asset that does not exist.
		httpx.APIError(w, http.StatusNotFound, fmt.Sprintf("no asset %q", id))
		return
	}
	var rec *control.Asset
	if n.catalog != nil {
		rec, _ = n.catalog.Asset(id)
	}
	a, ok := n.library.Asset(id)
	switch {
	case ok:
		j := toAssetJSON(a)
		if rec != nil {
			mergeCatalog(&j, *rec)
		}
		httpx.JSON(w, http.StatusOK, j)
	case rec != nil:
		j := catalogAssetJSON(*rec)
		mergeCatalog(&j, *rec)
		httpx.JSON(w, http.StatusOK, j)
	default:
		httpx.APIError(w, http.StatusNotFound, fmt.Sprintf("no asset %q", id))
	}
}
