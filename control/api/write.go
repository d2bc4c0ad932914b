package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/classmesh/classmesh/control"
)

// endRetries bounds the retries of an end without If-Match that races with
// other writes to the session.
const endRetries = 3

// parseIfMatch reads If-Match ("<revision>", <revision> or *) or ?if_match=.
// present is false when neither is given; * means "any revision" (0).
func parseIfMatch(r *http.Request) (rev uint64, present bool, err error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	field := "If-Match"
	if v == "" {
		v, field = r.URL.Query().Get("if_match"), "if_match"
	}
	if v == "" {
		return 0, false, nil
	}
	if v == "*" {
		return 0, true, nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	rev, perr := strconv.ParseUint(v, 10, 64)
	if perr != nil || rev == 0 {
		return 0, false, errStatus(http.StatusBadRequest, CodeBadRequest, field, "%s must be a revision number, got %q", field, v)
	}
	return rev, true, nil
}

// readBody decodes a request body of kind s within the size limit.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request, s *kindSpec) (any, error) {
	return decodeBody(s, http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
}

// courseOfBody returns the course a module, lesson or session body belongs
// to ("" when unknown; the FSM then rejects a missing reference).
func (h *handler) courseOfBody(v any) string {
	switch b := v.(type) {
	case *control.Module:
		return b.CourseID
	case *control.LiveSession:
		return b.CourseID
	case *control.Lesson:
		if rec, err := h.cfg.Reader.Get(control.KindModule, b.ModuleID); err == nil {
			return infoOf(rec).CourseID
		}
		return b.CourseID
	}
	return ""
}

func (h *handler) create(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkWrite(p, s); err != nil {
		return err
	}
	body, err := h.readBody(w, r, s)
	if err != nil {
		return err
	}
	id := recordID(body)
	if id == "" {
		id = newID(s.kind)
		setRecordID(body, id)
	}
	applyCreateDefaults(body)
	if err := checkWrite(p, s, h.courseOfBody(body)); err != nil {
		return err
	}
	if err := h.checkNewLink(p, body, nil); err != nil {
		return err
	}
	res, err := h.apply(r, control.Command{Op: control.OpCreate, Kind: s.kind, ID: id}, body)
	if err != nil {
		return err
	}
	v, err := view(s, res.Record, h.cfg.Now())
	if err == nil && res.Secret != "" {
		name := "stream_key"
		if s.kind == control.KindToken {
			name = "token"
		}
		v, err = withSecret(v, name, res.Secret)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+s.path+"/"+id)
	w.Header().Set("ETag", etag(res.Revision))
	h.writeJSON(w, http.StatusCreated, v)
	return nil
}

// apply sends one command, with body (if any) as its payload.
func (h *handler) apply(r *http.Request, cmd control.Command, body any) (*control.Result, error) {
	if body != nil {
		p, err := payloadOf(body)
		if err != nil {
			return nil, err
		}
		cmd.Payload = p
	}
	res, err := h.cfg.Writer.Apply(r.Context(), cmd)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("api: writer returned no result")
	}
	return res, nil
}

func (h *handler) update(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkWrite(p, s); err != nil {
		return err
	}
	id := r.PathValue("id")
	rev, ok, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	if !ok {
		return errStatus(http.StatusPreconditionRequired, CodePreconditionRequired, "If-Match",
			"an update needs If-Match: \"<revision>\" (or ?if_match=) with the revision it is based on")
	}
	body, err := h.readBody(w, r, s)
	if err != nil {
		return err
	}
	if b := recordID(body); b != "" && b != id {
		return &control.Error{Code: control.CodeInvalid, Field: "id", Message: "body id " + strconv.Quote(b) + " differs from the path id " + strconv.Quote(id)}
	}
	setRecordID(body, id)
	cur, err := h.cfg.Reader.Get(s.kind, id)
	if err != nil {
		return err
	}
	ci := infoOf(cur)
	if err := checkWrite(p, s, h.courseOfBody(body), ci.CourseID); err != nil {
		return err
	}
	if err := h.checkNewLink(p, body, &ci); err != nil {
		return err
	}
	if k, ok := body.(*keyBody); ok && k.Secret == "" {
		var old control.SigningKey
		if err := json.Unmarshal(cur, &old); err != nil {
			return err
		}
		k.Secret = old.Secret // keys are shown without secret; keep it
	}
	res, err := h.apply(r, control.Command{Op: control.OpUpdate, Kind: s.kind, ID: id, IfMatch: rev}, body)
	if err != nil {
		return err
	}
	return h.writeRecord(w, http.StatusOK, s, res.Record)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkWrite(p, s); err != nil {
		return err
	}
	id := r.PathValue("id")
	rev, _, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	cur, err := h.cfg.Reader.Get(s.kind, id)
	if err != nil {
		return err
	}
	if err := checkWrite(p, s, infoOf(cur).CourseID); err != nil {
		return err
	}
	if _, err := h.apply(r, control.Command{Op: control.OpDelete, Kind: s.kind, ID: id, IfMatch: rev}, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) rollback(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkWrite(p, s); err != nil {
		return err
	}
	id := r.PathValue("id")
	to, err := strconv.ParseUint(r.URL.Query().Get("revision"), 10, 64)
	if err != nil || to == 0 {
		return errStatus(http.StatusBadRequest, CodeBadRequest, "revision", "rollback needs ?revision=<revision from the history>")
	}
	rev, _, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	hist, err := h.cfg.Reader.History(s.kind, id)
	if err != nil {
		return err
	}
	courses := make([]string, 0, 2)
	var target *recordInfo
	for _, rec := range hist {
		if i := infoOf(rec); i.Revision == to {
			courses = append(courses, i.CourseID)
			target = &i
		}
	}
	if len(hist) > 0 {
		courses = append(courses, infoOf(hist[len(hist)-1]).CourseID)
	}
	var current *recordInfo
	if cur, err := h.cfg.Reader.Get(s.kind, id); err == nil {
		ci := infoOf(cur)
		courses = append(courses, ci.CourseID)
		current = &ci
	} else if !errIsNotFound(err) {
		return err
	}
	if err := checkWrite(p, s, courses...); err != nil {
		return err
	}
	// A rollback that brings back an older link links that asset again.
	if target != nil && (current == nil || linkedAssetOf(*current) != linkedAssetOf(*target)) {
		field := "asset_id"
		if s.kind == control.KindSession {
			field = "recording_asset"
		}
		if err := h.checkLink(p, field, linkedAssetOf(*target)); err != nil {
			return err
		}
	}
	res, err := h.apply(r, control.Command{Op: control.OpRollback, Kind: s.kind, ID: id, ToRevision: to, IfMatch: rev}, nil)
	if err != nil {
		return err
	}
	return h.writeRecord(w, http.StatusOK, s, res.Record)
}

// endSession sets a live session's state to ended (idempotent).
func (h *handler) endSession(w http.ResponseWriter, r *http.Request, s *kindSpec, p Principal) error {
	if err := checkWrite(p, s); err != nil {
		return err
	}
	id := r.PathValue("id")
	rev, explicit, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cur, err := h.cfg.Reader.Get(s.kind, id)
		if err != nil {
			return err
		}
		var ls control.LiveSession
		if err := json.Unmarshal(cur, &ls); err != nil {
			return err
		}
		if err := checkWrite(p, s, ls.CourseID); err != nil {
			return err
		}
		if ls.State == control.SessionEnded {
			return h.writeRecord(w, http.StatusOK, s, cur)
		}
		ls.State = control.SessionEnded
		im := ls.Revision
		if explicit {
			im = rev
		}
		res, err := h.apply(r, control.Command{Op: control.OpUpdate, Kind: s.kind, ID: id, IfMatch: im}, &ls)
		if errors.Is(err, control.ErrConflict) && !explicit && attempt < endRetries {
			continue
		}
		if err != nil {
			return err
		}
		return h.writeRecord(w, http.StatusOK, s, res.Record)
	}
}
