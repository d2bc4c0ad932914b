package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/node/vod"
)

// fillRecorder is a cluster.FillResponseWriter that keeps what it is sent.
type fillRecorder struct {
	hdr  *cluster.FillHeader
	body bytes.Buffer
}

func (r *fillRecorder) WriteHeader(h cluster.FillHeader) error {
	if r.hdr != nil {
		return errors.New("header already written")
	}
	r.hdr = &h
	return nil
}

func (r *fillRecorder) Write(p []byte) (int, error) {
	if r.hdr == nil {
		r.hdr = &cluster.FillHeader{Status: cluster.FillOK, Size: -1}
	}
	return r.body.Write(p)
}

func (r *fillRecorder) HeaderWritten() bool { return r.hdr != nil }

// TestFillHandlerStatuses: the fill server's handler parses the object
// once and maps the segment source's refusals to fill statuses; a segment
// it serves is the one learners get.
func TestFillHandlerStatuses(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, _ := n.Library().Asset("demo")
	rend := a.Renditions[0]
	h := fillHandler{n.segments}
	for _, tc := range []struct {
		name          string
		asset, object string
		source        string
		want          cluster.FillStatus
	}{
		{"segment", "demo", "seg-1.m4s", "", cluster.FillOK},
		{"segment with its source identity", "demo", "seg-1.m4s", rend.SourceID, cluster.FillOK},
		{"another source identity", "demo", "seg-1.m4s", "other", cluster.FillNotFound},
		{"init is not filled", "demo", "init.mp4", "", cluster.FillNotFound},
		{"not an object", "demo", "media.m3u8", "", cluster.FillNotFound},
		{"bad number", "demo", "seg-01.m4s", "", cluster.FillNotFound},
		{"out of range", "demo", "seg-99999.m4s", "", cluster.FillNotFound},
		{"no asset", "nope", "seg-1.m4s", "", cluster.FillNotFound},
		{"bad asset id", "..", "seg-1.m4s", "", cluster.FillNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w fillRecorder
			err := h.ServeFill(t.Context(), cluster.FillRequest{
				Hop: 1, Requester: "other-node", AssetID: tc.asset, RenditionID: rend.ID, Object: tc.object, Source: tc.source,
			}, &w)
			if tc.want == cluster.FillOK {
				if err != nil || w.hdr == nil || w.hdr.Status != cluster.FillOK || w.hdr.Size != rend.Segments[1].Size ||
					int64(w.body.Len()) != rend.Segments[1].Size {
					t.Fatalf("err %v, header %+v, %d body bytes; want the %d-byte segment", err, w.hdr, w.body.Len(), rend.Segments[1].Size)
				}
				learner := get(t, n.URL()+"/v/demo/"+rend.ID+"/seg-1.m4s")
				if !bytes.Equal(learner.body, w.body.Bytes()) {
					t.Fatal("the fill body differs from what a learner gets")
				}
				return
			}
			var se *cluster.FillStatusError
			if !errors.As(err, &se) || se.Status != tc.want || w.hdr != nil {
				t.Fatalf("err %v (header %+v), want status %s before any header", err, w.hdr, tc.want)
			}
		})
	}
}

func TestFillStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want cluster.FillStatus
	}{
		{fmt.Errorf("segsource: no asset %q: %w", "x", vod.ErrNotFound), cluster.FillNotFound},
		{fmt.Errorf("segsource: asset failed: %w", vod.ErrAssetFailed), cluster.FillUnprocessable},
		{fmt.Errorf("%w: read: reset", vod.ErrOrigin), cluster.FillError},
		{context.DeadlineExceeded, cluster.FillError},
	} {
		if got := fillStatus(tc.err); got != tc.want {
			t.Errorf("fillStatus(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
