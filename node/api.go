package node

import (
	"fmt"
	"net/http"

	"github.com/classmesh/classmesh/node/vod"
)

// assetJSON is the API form of an asset (snake_case, stable field names).
type assetJSON struct {
	ID          string          `json:"id"`
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Status      string          `json:"status"`
	Reason      string          `json:"reason,omitempty"`
	Duration    float64         `json:"duration"`
	Renditions  []renditionJSON `json:"renditions"`
	Master      string          `json:"master,omitempty"`
}

type renditionJSON struct {
	ID               string  `json:"id"`
	Kind             string  `json:"kind"`
	Codec            string  `json:"codec"`
	Width            int     `json:"width,omitempty"`
	Height           int     `json:"height,omitempty"`
	FrameRate        float64 `json:"frame_rate,omitempty"`
	Language         string  `json:"language,omitempty"`
	Channels         int     `json:"channels,omitempty"`
	SampleRate       int     `json:"sample_rate,omitempty"`
	Bandwidth        int64   `json:"bandwidth"`
	AverageBandwidth int64   `json:"average_bandwidth"`
	Segments         int     `json:"segments"`
	Playlist         string  `json:"playlist"`
}

func toAssetJSON(a *vod.Asset) assetJSON {
	out := assetJSON{
		ID:          a.ID,
		Title:       a.Title,
		Description: a.Description,
		Status:      a.Status,
		Reason:      a.Reason,
		Duration:    a.Duration.Seconds(),
		Renditions:  []renditionJSON{},
	}
	if a.Status == vod.StatusReady {
		out.Master = fmt.Sprintf("/v/%s/master.m3u8", a.ID)
	}
	for _, r := range a.Renditions {
		out.Renditions = append(out.Renditions, renditionJSON{
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

func (n *Node) handleAssets(w http.ResponseWriter, r *http.Request) {
	assets := n.library.Assets()
	out := make([]assetJSON, 0, len(assets))
	for _, a := range assets {
		out = append(out, toAssetJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleAsset(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		writeJSONError(w, http.StatusBadRequest, "bad asset id")
		return
	}
	a, ok := n.library.Asset(id)
	if !ok {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no asset %q", id))
		return
	}
	writeJSON(w, http.StatusOK, toAssetJSON(a))
}
