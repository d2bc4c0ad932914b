package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/control/playback"
	"github.com/classmesh/classmesh/internal/httpx"
)

// catalogAPI is the /api/v1 catalog (courses, modules, lessons, assets,
// sessions, sites, keys, tokens), served from the local replica. Writes go
// to the leader and wait until the local replica has applied them, so a
// client reads its own writes on this node (control.ReadYourWrites).
func (n *assetAPI) catalogAPI() http.Handler {
	return api.NewHandler(api.Config{
		Reader:     n.catalog,
		Writer:     control.ReadYourWrites{F: n.forwarder},
		Linearizer: n.forwarder,
		Auth:       tokenAuth(n.catalog, n.forwarder),
		Logger:     n.logger.With("part", "api"),
	})
}

// tokenAuth checks API tokens against the local replica and, for a token
// it does not know yet, against the leader.
func tokenAuth(store *control.Store, fw *control.Forwarder) api.TokenAuth {
	a := api.TokenAuth{Reader: store}
	if fw != nil {
		a.Remote = fw
	}
	return a
}

// handlePlaybackToken signs a playback URL for an LMS: admins for any
// scope, instructors for their courses.
func (n *assetAPI) handlePlaybackToken(w http.ResponseWriter, r *http.Request) {
	p, err := tokenAuth(n.catalog, n.forwarder).Authenticate(r)
	if errors.Is(err, control.ErrUnavailable) {
		w.Header().Set("Retry-After", api.RetryAfterSeconds)
		httpx.APIError(w, http.StatusServiceUnavailable, "cannot check the token now (no catalog leader reachable): retry shortly")
		return
	}
	if err != nil || p.Anonymous {
		w.Header().Set("WWW-Authenticate", "Bearer")
		httpx.APIError(w, http.StatusUnauthorized, "a bearer token is required")
		return
	}
	var req api.PlaybackTokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httpx.APIError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return
	}
	claims := playback.Claims{Scope: req.Asset, Session: req.Session}
	pol := n.access.policy()
	var courses []string
	switch {
	case req.Asset == "" && req.Course == "" && req.Session != "":
		// A session token: that live session and its recording.
		c, ok := pol.SessionCourse(req.Session)
		if !ok {
			httpx.APIError(w, http.StatusNotFound, "no live session "+req.Session)
			return
		}
		claims.Scope, claims.Session, courses = access.SessionScope(req.Session), "", []string{c}
	case (req.Asset == "") == (req.Course == ""):
		httpx.APIError(w, http.StatusUnprocessableEntity, "give exactly one of asset, course or session")
		return
	case req.Course != "":
		claims.Scope, courses = playback.CourseScope(req.Course), []string{req.Course}
	default:
		// An asset-scoped URL needs rights on the course that owns the
		// asset, not on any course that links it: an instructor of
		// another course must not sign for it.
		owner, err := n.catalog.AssetOwner(req.Asset)
		if err != nil && !errors.Is(err, control.ErrNotFound) {
			n.logger.Error("node: playback token: asset owner", "asset", req.Asset, "err", err)
			httpx.APIError(w, http.StatusInternalServerError, "cannot read the catalog")
			return
		}
		if owner != "" {
			courses = []string{owner}
		}
	}
	if !p.Admin() && !slices.ContainsFunc(courses, p.Teaches) {
		n.catalog.CountRefusal("sign_not_owner")
		n.logger.Info("node: playback token refused", "token", p.TokenID, "asset", req.Asset, "course", req.Course, "session", req.Session)
		msg := "this token may not sign URLs for that scope: it needs admin or an instructor of the course"
		if req.Asset != "" {
			msg = fmt.Sprintf("this token may not sign URLs for asset %q: it needs admin or an instructor of the course that owns it", req.Asset)
			if len(courses) == 0 {
				msg += " (it has no owner course yet: an admin signs for it or sets its course_id)"
			} else {
				msg += fmt.Sprintf(" (%q)", courses[0])
			}
		}
		httpx.APIError(w, http.StatusForbidden, msg)
		return
	}
	ttl := time.Duration(req.TTL) * time.Second
	if ttl <= 0 {
		ttl = 6 * time.Hour
	}
	claims.Expiry = time.Now().Add(min(ttl, 7*24*time.Hour))
	if req.Subnet != "" {
		if claims.Subnet, err = netip.ParsePrefix(req.Subnet); err != nil {
			httpx.APIError(w, http.StatusUnprocessableEntity, "subnet: "+err.Error())
			return
		}
		// ::ffff:10.0.0.0/104 names IPv4 clients, which the node sees as
		// IPv4 addresses: sign the IPv4 prefix (or refuse a mapped prefix
		// that has no IPv4 form).
		if claims.Subnet, err = playback.NormalizeSubnet(claims.Subnet); err != nil {
			httpx.APIError(w, http.StatusBadRequest, "subnet: "+err.Error())
			return
		}
	}
	key, ok := activeKey(pol.Keys(), time.Now())
	if !ok {
		httpx.APIError(w, http.StatusConflict, "no signing key is active: create one with POST /api/v1/keys")
		return
	}
	tok, err := playback.Sign(key, claims)
	if err != nil {
		httpx.APIError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	out := api.PlaybackToken{Token: tok, Expires: claims.Expiry.UTC().Format(time.RFC3339), Kid: key.Kid}
	if claims.Subnet.IsValid() {
		out.Subnet = claims.Subnet.String()
	}
	switch {
	case req.Asset != "":
		out.URL = "/t/" + tok + "/v/" + req.Asset + "/master.m3u8"
		out.Watch = "/t/" + tok + "/watch/" + req.Asset
	case claims.Scope == access.SessionScope(req.Session):
		out.URL = "/t/" + tok + "/live/" + req.Session + "/master.m3u8"
		out.Watch = "/t/" + tok + "/watch/" + req.Session + "?live=1"
	}
	httpx.JSON(w, http.StatusCreated, out)
}

// activeKey picks the newest key valid now.
func activeKey(keys []playback.Key, now time.Time) (playback.Key, bool) {
	var ok []playback.Key
	for _, k := range keys {
		if (k.NotBefore.IsZero() || !now.Before(k.NotBefore)) && (k.NotAfter.IsZero() || now.Before(k.NotAfter)) && len(k.Secret) >= playback.MinSecretLen {
			ok = append(ok, k)
		}
	}
	if len(ok) == 0 {
		return playback.Key{}, false
	}
	slices.SortFunc(ok, func(a, b playback.Key) int { return b.NotBefore.Compare(a.NotBefore) })
	return ok[0], true
}
