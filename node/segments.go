package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/fill"
	"github.com/classmesh/classmesh/node/internal/segsource"
	"github.com/classmesh/classmesh/node/vod"
)

// VOD segments have one owner, node/internal/segsource: the policy "local
// cache → ring owner → origin, with resume" is Source.load. node wires it
// here: the ring, the fill client and the fill server are the cluster's,
// adapted to the Source's interfaces, as remote.go adapts the remote
// origin.

// buildFill wires the segment source and the fill protocol: this node
// asks owners for segments (client) and answers as an owner (server, whose
// handler is the Source); an origin-role node with media of its own also
// serves byte ranges of it to the cluster.
func (n *Node) buildFill() error {
	fc := fill.DefaultFillConfig()
	fc.FirstByteTimeout = n.cfg.PeerTimeout
	fc.Logger = n.logger.With("part", "fill")
	fc.Registerer = n.registry
	client, err := fill.NewFillClient(n.cluster.Transport(), fc)
	if err != nil {
		return fmt.Errorf("node: fill client: %w", err)
	}
	n.segments, err = segsource.New(segsource.Config{
		Self:       n.cluster.ID(),
		Region:     n.cluster.Self().Region,
		Cache:      n.cache,
		Ring:       segmentRing{n},
		Peers:      segmentPeers{client},
		Packager:   n.library,
		MaxHops:    fill.MaxFillHops,
		Logger:     n.logger.With("part", "segsource"),
		Registerer: n.registry,
	})
	if err != nil {
		return fmt.Errorf("node: segments: %w", err)
	}
	if n.fillServer, err = fill.NewFillServer(fc, fillHandler{n.segments}); err != nil {
		return fmt.Errorf("node: fill server: %w", err)
	}
	n.fillServer.Register(n.cluster.Transport())
	if !n.remote && n.cluster.Self().Has(cluster.RoleOrigin) {
		return n.serveOrigin()
	}
	return nil
}

// segmentRing implements segsource.Ring over the node's RingKeeper. It
// reads n.ring on every call: tests build a node with a partial view by
// replacing n.ring before Start.
type segmentRing struct{ n *Node }

func (r segmentRing) Owner(key, region string) (segsource.Peer, uint64, bool) {
	ring := r.n.ring.Ring()
	m, ok := ring.Owner(key, region)
	return segsource.Peer{ID: m.ID, Addr: m.QUICAddr}, ring.Epoch(), ok
}

// segmentPeers implements segsource.Peers with the fill protocol's client.
type segmentPeers struct{ c *fill.FillClient }

func (p segmentPeers) Fetch(ctx context.Context, owner segsource.Peer, req segsource.Request, w io.Writer) (int64, error) {
	res, err := p.c.Fetch(ctx, cluster.Member{ID: owner.ID, QUICAddr: owner.Addr}, fill.FillRequest{
		Hop:         req.Hop,
		Epoch:       req.Epoch,
		Requester:   req.Requester,
		Region:      req.Region,
		AssetID:     req.Ref.Asset,
		RenditionID: req.Ref.Rendition,
		Object:      req.Ref.Object(),
		Source:      req.Source,
	}, w)
	return res.Bytes, err
}

// fillHandler is the fill server's handler: it parses the requested
// object once and hands the request to the Source, mapping the library's
// errors to fill statuses (cluster knows nothing of origins).
type fillHandler struct{ src *segsource.Source }

func (h fillHandler) ServeFill(ctx context.Context, req fill.FillRequest, w fill.FillResponseWriter) error {
	ref, err := segsource.Parse(req.AssetID, req.RenditionID, req.Object)
	if err != nil {
		return &fill.FillStatusError{Status: fill.FillNotFound, Message: err.Error()}
	}
	err = h.src.Serve(ctx, segsource.Request{
		Ref:       ref,
		Hop:       req.Hop,
		Epoch:     req.Epoch,
		Requester: req.Requester,
		Region:    req.Region,
		Source:    req.Source,
	}, fillResponse{w})
	if err != nil && !w.HeaderWritten() {
		return &fill.FillStatusError{Status: fillStatus(err), Message: err.Error()}
	}
	return err
}

// fillResponse implements segsource.Response on a fill response.
type fillResponse struct{ fill.FillResponseWriter }

func (r fillResponse) WriteHeader(size int64, sum []byte) error {
	return r.FillResponseWriter.WriteHeader(fill.FillHeader{Status: fill.FillOK, Size: size, SHA256: sum})
}

// fillStatus maps the Source's errors to the status answered.
func fillStatus(err error) fill.FillStatus {
	switch {
	case errors.Is(err, vod.ErrAssetFailed):
		return fill.FillUnprocessable
	case errors.Is(err, vod.ErrNotFound):
		return fill.FillNotFound
	}
	return fill.FillError
}
