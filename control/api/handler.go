package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/classmesh/classmesh/control"
)

// Prefix is where the node mounts the handler; the handler sees full paths.
const Prefix = "/api/v1/"

// handler serves the API.
type handler struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// route is one method and path pattern the handler serves.
type route struct {
	method  string
	pattern string
	serve   func(h *handler, w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error
	spec    *kindSpec
}

// NewHandler returns the API handler. It panics when cfg.Validate fails, a
// programming error of the caller.
func NewHandler(cfg Config) http.Handler {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	h := &handler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	for _, rt := range routes() {
		h.mux.Handle(rt.method+" "+rt.pattern, h.wrap(rt))
	}
	h.mux.HandleFunc("GET "+Prefix+"openapi.json", serveOpenAPI)
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, errStatus(http.StatusNotFound, string(control.CodeNotFound), "", "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// routes lists every record route; the OpenAPI test checks them against
// openapi.json.
func routes() []route {
	var out []route
	for _, s := range kindSpecs {
		coll := Prefix + s.path
		one := coll + "/{id}"
		out = append(out,
			route{http.MethodGet, coll, (*handler).list, s},
			route{http.MethodPost, coll, (*handler).create, s},
			route{http.MethodGet, one, (*handler).get, s},
			route{http.MethodPut, one, (*handler).update, s},
			route{http.MethodDelete, one, (*handler).delete, s},
			route{http.MethodGet, one + "/history", (*handler).history, s},
			route{http.MethodPost, one + "/rollback", (*handler).rollback, s},
		)
		if s.kind == control.KindSession {
			out = append(out, route{http.MethodPost, one + "/end", (*handler).endSession, s})
		}
	}
	return out
}

// wrap authenticates the caller and turns errors into JSON responses.
func (h *handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.cfg.Auth.Authenticate(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if err := rt.serve(h, w, r, rt.spec, p); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// consistent honours ?consistency=local|linearizable before a read.
func (h *handler) consistent(r *http.Request) error {
	switch c := r.URL.Query().Get("consistency"); c {
	case "", "local":
		return nil
	case "linearizable":
		if h.cfg.Linearizer == nil {
			return ErrNoLinearizer
		}
		if err := h.cfg.Linearizer.Linearize(r.Context()); err != nil {
			h.log.Warn("api: linearizable read failed", "err", err)
			return errStatus(http.StatusServiceUnavailable, CodeUnavailable, "consistency",
				"linearizable read failed (no reachable leader?): %v", err)
		}
		return nil
	default:
		return errStatus(http.StatusBadRequest, CodeBadRequest, "consistency", "consistency %q is not local or linearizable", c)
	}
}

// checkKindRead checks that p may read some records of kind s.
func checkKindRead(p Principal, s *kindSpec) error {
	if p.Admin() || s.publicRead || (s.instructorRead && !p.Anonymous && p.Role == control.RoleInstructor) {
		return nil
	}
	return deny(p, "reading %s needs an admin token", s.path)
}

// readable reports whether p may read one record of kind s.
func (h *handler) readable(p Principal, s *kindSpec, rec json.RawMessage, vis map[string]string) bool {
	if p.Admin() {
		return true
	}
	i := infoOf(rec)
	switch s.kind {
	case control.KindCourse:
		return canRead(p, i.ID, i.Visibility)
	case control.KindModule, control.KindLesson:
		return canRead(p, i.CourseID, h.visibility(i.CourseID, vis))
	case control.KindSession:
		return p.Teaches(i.CourseID)
	case control.KindAsset, control.KindSite:
		return true
	}
	return false
}

// visibility returns a course's visibility ("" when it is missing), cached
// in vis for the request.
func (h *handler) visibility(course string, vis map[string]string) string {
	if v, ok := vis[course]; ok {
		return v
	}
	v := ""
	if rec, err := h.cfg.Reader.Get(control.KindCourse, course); err == nil {
		v = infoOf(rec).Visibility
	}
	vis[course] = v
	return v
}

func (h *handler) list(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkKindRead(p, s); err != nil {
		return err
	}
	if err := h.consistent(r); err != nil {
		return err
	}
	recs, err := h.cfg.Reader.List(s.kind, nil)
	if err != nil {
		return err
	}
	vis := map[string]string{}
	out := List[json.RawMessage]{Items: []json.RawMessage{}}
	for _, rec := range recs {
		if !h.readable(p, s, rec, vis) {
			continue
		}
		v, err := view(s, rec, h.cfg.Now())
		if err != nil {
			return err
		}
		out.Items = append(out.Items, v)
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *handler) get(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkKindRead(p, s); err != nil {
		return err
	}
	if err := h.consistent(r); err != nil {
		return err
	}
	rec, err := h.cfg.Reader.Get(s.kind, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !h.readable(p, s, rec, map[string]string{}) {
		return deny(p, "%s %q is not public", s.kind, r.PathValue("id"))
	}
	return h.writeRecord(w, http.StatusOK, s, rec)
}

// writeRecord writes one record as the client sees it, with its ETag.
func (h *handler) writeRecord(w http.ResponseWriter, status int, s *kindSpec, rec json.RawMessage) error {
	v, err := view(s, rec, h.cfg.Now())
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(infoOf(rec).Revision))
	h.writeJSON(w, status, v)
	return nil
}

func (h *handler) history(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkKindRead(p, s); err != nil {
		return err
	}
	if err := h.consistent(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	recs, err := h.cfg.Reader.History(s.kind, id)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return &control.Error{Code: control.CodeNotFound, Message: "no history for " + string(s.kind) + " " + id}
	}
	if !h.readable(p, s, recs[len(recs)-1], map[string]string{}) {
		return deny(p, "%s %q is not public", s.kind, id)
	}
	out := List[json.RawMessage]{Items: make([]json.RawMessage, 0, len(recs))}
	for _, rec := range recs {
		v, err := view(s, rec, h.cfg.Now())
		if err != nil {
			return err
		}
		out.Items = append(out.Items, v)
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// errIsNotFound reports whether err is a catalog not-found error.
func errIsNotFound(err error) bool { return errors.Is(err, control.ErrNotFound) }
