package node

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/playback"
)

// accessView is what playback authorisation needs from the catalog,
// rebuilt only when the local replica has applied new entries.
type accessView struct {
	index uint64
	// restricted maps an asset id to the non-public course that uses it.
	// An asset used by no course, or by any public course, plays freely.
	restricted map[string]string
	keys       []playback.Key
}

type accessCache struct {
	mu   sync.Mutex
	view *accessView
}

func (n *Node) access() *accessView {
	idx := n.catalog.AppliedIndex()
	n.accessCache.mu.Lock()
	defer n.accessCache.mu.Unlock()
	if v := n.accessCache.view; v != nil && v.index == idx {
		return v
	}
	v, err := n.buildAccess(idx)
	if err != nil {
		n.logger.Warn("node: cannot read the catalog for playback access", "err", err)
		if n.accessCache.view != nil {
			return n.accessCache.view
		}
		return &accessView{restricted: map[string]string{}}
	}
	n.accessCache.view = v
	return v
}

func (n *Node) buildAccess(idx uint64) (*accessView, error) {
	courses, err := n.catalog.Courses()
	if err != nil {
		return nil, err
	}
	public := map[string]bool{}
	for _, c := range courses {
		public[c.ID] = c.Visibility == "public"
	}
	raw, err := n.catalog.List(control.KindLesson, nil)
	if err != nil {
		return nil, err
	}
	v := &accessView{index: idx, restricted: map[string]string{}}
	free := map[string]bool{}
	for _, r := range raw {
		var l control.Lesson
		if json.Unmarshal(r, &l) != nil || l.AssetID == "" {
			continue
		}
		if public[l.CourseID] {
			free[l.AssetID] = true
		} else if _, ok := v.restricted[l.AssetID]; !ok {
			v.restricted[l.AssetID] = l.CourseID
		}
	}
	for a := range free {
		delete(v.restricted, a)
	}
	keys, err := n.catalog.SigningKeys()
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		v.keys = append(v.keys, playback.Key{Kid: k.KID, Secret: []byte(k.Secret), NotBefore: k.NotBefore, NotAfter: k.NotAfter})
	}
	return v, nil
}

// authorizePlayback checks that a learner may fetch media of asset: free
// assets need nothing; assets of non-public courses need a valid token in
// the path (/t/{token}/v/...). It writes 403 with a reason code and
// returns false otherwise.
func (n *Node) authorizePlayback(w http.ResponseWriter, r *http.Request, asset string) bool {
	v := n.access()
	course, restricted := v.restricted[asset]
	token := r.PathValue("token")
	if !restricted && token == "" {
		return true
	}
	if token == "" {
		forbid(w, "token_required", fmt.Sprintf("asset %q belongs to a course that is not public: use a signed URL", asset))
		return false
	}
	verifier := playback.Verifier{Keys: func() []playback.Key { return v.keys }}
	if _, err := verifier.Verify(token, asset, course, clientAddr(r)); err != nil {
		n.logger.Info("node: playback token refused", "asset", asset, "reason", playback.Reason(err), "client", r.RemoteAddr)
		forbid(w, playback.Reason(err), err.Error())
		return false
	}
	return true
}

func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func forbid(w http.ResponseWriter, reason, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusForbidden, map[string]string{"error": msg, "reason": reason})
}
