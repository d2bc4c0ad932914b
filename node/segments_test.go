package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/classmesh/classmesh/cluster/fill"
	"github.com/classmesh/classmesh/node/vod"
)

// fillRecorder is a fill.FillResponseWriter that keeps what it is sent.
type fillRecorder struct {
	hdr  *fill.FillHeader
	body bytes.Buffer
}

func (r *fillRecorder) WriteHeader(h fill.FillHeader) error {
	if r.hdr != nil {
		return errors.New("header already written")
	}
	r.hdr = &h
	return nil
}

func (r *fillRecorder) Write(p []byte) (int, error) {
	if r.hdr == nil {
		r.hdr = &fill.FillHeader{Status: fill.FillOK, Size: -1}
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
		want          fill.FillStatus
	}{
		{"segment", "demo", "seg-1.m4s", "", fill.FillOK},
		{"segment with its source identity", "demo", "seg-1.m4s", rend.SourceID, fill.FillOK},
		{"another source identity", "demo", "seg-1.m4s", "other", fill.FillNotFound},
		{"init is not filled", "demo", "init.mp4", "", fill.FillNotFound},
		{"not an object", "demo", "media.m3u8", "", fill.FillNotFound},
		{"bad number", "demo", "seg-01.m4s", "", fill.FillNotFound},
		{"out of range", "demo", "seg-99999.m4s", "", fill.FillNotFound},
		{"no asset", "nope", "seg-1.m4s", "", fill.FillNotFound},
		{"bad asset id", "..", "seg-1.m4s", "", fill.FillNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w fillRecorder
			err := h.ServeFill(t.Context(), fill.FillRequest{
				Hop: 1, Requester: "other-node", AssetID: tc.asset, RenditionID: rend.ID, Object: tc.object, Source: tc.source,
			}, &w)
			if tc.want == fill.FillOK {
				if err != nil || w.hdr == nil || w.hdr.Status != fill.FillOK || w.hdr.Size != rend.Segments[1].Size ||
					int64(w.body.Len()) != rend.Segments[1].Size {
					t.Fatalf("err %v, header %+v, %d body bytes; want the %d-byte segment", err, w.hdr, w.body.Len(), rend.Segments[1].Size)
				}
				learner := get(t, n.URL()+"/v/demo/"+rend.ID+"/seg-1.m4s")
				if !bytes.Equal(learner.body, w.body.Bytes()) {
					t.Fatal("the fill body differs from what a learner gets")
				}
				return
			}
			var se *fill.FillStatusError
			if !errors.As(err, &se) || se.Status != tc.want || w.hdr != nil {
				t.Fatalf("err %v (header %+v), want status %s before any header", err, w.hdr, tc.want)
			}
		})
	}
}

func TestFillStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want fill.FillStatus
	}{
		{fmt.Errorf("segsource: no asset %q: %w", "x", vod.ErrNotFound), fill.FillNotFound},
		{fmt.Errorf("segsource: asset failed: %w", vod.ErrAssetFailed), fill.FillUnprocessable},
		{fmt.Errorf("%w: read: reset", vod.ErrOrigin), fill.FillError},
		{context.DeadlineExceeded, fill.FillError},
	} {
		if got := fillStatus(tc.err); got != tc.want {
			t.Errorf("fillStatus(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
