package segsource

import (
	"context"
	"fmt"
	"io"

	"github.com/classmesh/classmesh/cache"
)

// from says where a request stands: hop is the Hop of the request being
// answered (0 for a learner's request to this node), requester the node
// that sent it ("" for a learner's), region the region it is served in.
type from struct {
	hop       uint8
	requester string
	region    string
}

// load returns the cache fill of t for a request at f: the whole policy,
// as groupcache's Group.load. When it runs it asks the owner of t in this
// node's view of the ring, or packages t from the origin when this node
// is the owner. A node asked by another node (hop 1) for a segment it
// does not own in its view, and does not hold (the cache answers hits
// before any fill runs), forwards the request once to the owner it sees
// (hop 2) instead of reading the origin, unless that owner is the
// requester; a request at MaxHops is always answered here, so requests
// never loop.
//
// When the owner fails, this node packages the segment from the origin
// itself; if the owner had already sent part of the body, only the rest
// is written (packaging is deterministic, so the bytes are the same), and
// the learner's response goes on without a break.
func (s *Source) load(t target, f from) cache.FillFunc {
	return func(ctx context.Context, w io.Writer) error {
		req := Request{
			Ref:       t.ref,
			Hop:       f.hop + 1,
			Requester: s.cfg.Self,
			Region:    f.region,
			Source:    t.rend.SourceID,
		}
		owner, epoch, ok := s.cfg.Ring.Owner(t.ref.Key(), req.Region)
		req.Epoch = epoch
		if ok && owner.ID != s.cfg.Self && owner.ID != f.requester && req.Hop <= s.cfg.MaxHops {
			cache.SetFillSource(ctx, "peer")
			if f.hop > 0 {
				s.m.forwards.Inc()
				s.log.Debug("segsource: not the owner of a requested segment; forwarding once",
					"key", t.ref.Key(), "requester", f.requester, "owner", owner.ID)
			}
			sent, err := s.cfg.Peers.Fetch(ctx, owner, req, w)
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("segsource: owner %s: %w", owner.ID, err)
			}
			s.log.Warn("segsource: owner did not serve the segment; filling from the origin",
				"owner", owner.ID, "key", t.ref.Key(), "after_bytes", sent, "err", err)
			cache.SetFillSource(ctx, "origin")
			if sent > 0 {
				w = &skipWriter{w: w, skip: sent}
			}
		}
		return s.cfg.Packager.WriteSegment(ctx, t.asset, t.rend, t.ref.Number, w)
	}
}

// skipWriter drops the first skip bytes written to it and passes the rest
// on: it resumes a body that another writer had started.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	if s.skip >= int64(len(p)) {
		s.skip -= int64(len(p))
		return len(p), nil
	}
	rest := p[s.skip:]
	s.skip = 0
	if _, err := s.w.Write(rest); err != nil {
		return 0, err
	}
	return len(p), nil
}
