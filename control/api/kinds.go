package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/classmesh/classmesh/control"
)

// kindSpec describes how one record kind is served.
type kindSpec struct {
	kind control.Kind
	// path is the collection name under /api/v1/.
	path string
	// publicRead: anonymous callers may read records of public courses
	// (and records that belong to no course).
	publicRead bool
	// instructorRead and instructorWrites: instructors may read and write
	// records of the courses they are scoped to.
	instructorRead   bool
	instructorWrites bool
	// newBody returns the struct a request body decodes into.
	newBody func() any
}

var kindSpecs = []*kindSpec{
	{kind: control.KindCourse, path: "courses", publicRead: true, newBody: func() any { return &control.Course{} }},
	{kind: control.KindModule, path: "modules", publicRead: true, instructorRead: true, instructorWrites: true,
		newBody: func() any { return &control.Module{} }},
	{kind: control.KindLesson, path: "lessons", publicRead: true, instructorRead: true, instructorWrites: true,
		newBody: func() any { return &control.Lesson{} }},
	{kind: control.KindAsset, path: "assets", publicRead: true, newBody: func() any { return &control.Asset{} }},
	{kind: control.KindSession, path: "sessions", instructorRead: true, instructorWrites: true,
		newBody: func() any { return &control.LiveSession{} }},
	{kind: control.KindSite, path: "sites", publicRead: true, newBody: func() any { return &control.Site{} }},
	{kind: control.KindKey, path: "keys", newBody: func() any { return &keyBody{} }},
	{kind: control.KindToken, path: "tokens", newBody: func() any { return &control.APIToken{} }},
}

// keyBody is a signing key as a request body: the "active" flag of the
// responses is accepted (and ignored) so that a fetched key can be sent back.
type keyBody struct {
	control.SigningKey
	Active *bool `json:"active,omitempty"`
}

// KeyView is a signing key as the API shows it: never the secret.
type KeyView struct {
	KID       string    `json:"kid"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Active    bool      `json:"active"`
	control.Meta
}

// TokenView is an API token as the API shows it: never the hash.
type TokenView struct {
	ID      string   `json:"id"`
	Role    string   `json:"role"`
	Courses []string `json:"courses,omitempty"`
	control.Meta
}

// bodyError is a malformed request body (400).
type bodyError struct {
	field string
	msg   string
}

func (e *bodyError) Error() string { return "api: " + e.msg }

// decodeBody decodes one record of kind s from r, rejecting unknown fields
// and trailing data. Size limits are the caller's (http.MaxBytesReader).
func decodeBody(s *kindSpec, r io.Reader) (any, error) {
	var raw json.RawMessage
	outer := json.NewDecoder(r)
	if err := outer.Decode(&raw); err != nil {
		return nil, jsonError(s, err)
	}
	if _, err := outer.Token(); !errors.Is(err, io.EOF) {
		if isTooLarge(err) {
			return nil, err
		}
		return nil, &bodyError{msg: "trailing data after the " + string(s.kind) + " object"}
	}
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return nil, &bodyError{msg: "the body must be a JSON object (a " + string(s.kind) + ")"}
	}
	v := s.newBody()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, jsonError(s, err)
	}
	return v, nil
}

// jsonError turns a decoding error into a bodyError naming the field.
func jsonError(s *kindSpec, err error) error {
	if isTooLarge(err) {
		return err
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return &bodyError{field: te.Field, msg: fmt.Sprintf("field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)}
	case errors.As(err, &se):
		return &bodyError{msg: fmt.Sprintf("malformed JSON at offset %d: %v", se.Offset, se)}
	case errors.Is(err, io.EOF):
		return &bodyError{msg: "empty body: expected a " + string(s.kind) + " object"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &bodyError{msg: "truncated JSON body"}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return &bodyError{field: f, msg: fmt.Sprintf("unknown field %q in %s", f, s.kind)}
	}
	return &bodyError{msg: "bad JSON body: " + msg}
}

// recordID returns the id of a decoded body.
func recordID(v any) string {
	switch r := v.(type) {
	case *control.Course:
		return r.ID
	case *control.Module:
		return r.ID
	case *control.Lesson:
		return r.ID
	case *control.Asset:
		return r.ID
	case *control.LiveSession:
		return r.ID
	case *control.Site:
		return r.Name
	case *keyBody:
		return r.KID
	case *control.APIToken:
		return r.ID
	}
	return ""
}

// setRecordID sets the id of a decoded body.
func setRecordID(v any, id string) {
	switch r := v.(type) {
	case *control.Course:
		r.ID = id
	case *control.Module:
		r.ID = id
	case *control.Lesson:
		r.ID = id
	case *control.Asset:
		r.ID = id
	case *control.LiveSession:
		r.ID = id
	case *control.Site:
		r.Name = id
	case *keyBody:
		r.KID = id
	case *control.APIToken:
		r.ID = id
	}
}

// payloadOf returns the command payload of a decoded body.
func payloadOf(v any) (json.RawMessage, error) {
	if k, ok := v.(*keyBody); ok {
		v = &k.SigningKey
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("api: encode payload: %w", err)
	}
	return b, nil
}

// newID returns a random id with the kind as prefix.
func newID(k control.Kind) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return string(k) + "-" + hex.EncodeToString(b[:])
}

// applyCreateDefaults fills fields a client may leave out on create.
func applyCreateDefaults(v any) {
	switch r := v.(type) {
	case *control.LiveSession:
		if r.State == "" {
			r.State = control.SessionScheduled
		}
	case *control.Asset:
		if r.Status == "" {
			r.Status = control.AssetPending
		}
	}
}

// view returns the JSON a client sees for a stored record: signing keys
// lose their secret and API tokens their hash.
func view(s *kindSpec, rec json.RawMessage, now time.Time) (json.RawMessage, error) {
	switch s.kind {
	case control.KindKey:
		var k control.SigningKey
		if err := json.Unmarshal(rec, &k); err != nil {
			return nil, fmt.Errorf("api: decode key: %w", err)
		}
		active := !now.Before(k.NotBefore) && now.Before(k.NotAfter)
		return json.Marshal(KeyView{KID: k.KID, NotBefore: k.NotBefore, NotAfter: k.NotAfter, Active: active, Meta: k.Meta})
	case control.KindToken:
		var t control.APIToken
		if err := json.Unmarshal(rec, &t); err != nil {
			return nil, fmt.Errorf("api: decode token: %w", err)
		}
		return json.Marshal(TokenView{ID: t.ID, Role: t.Role, Courses: t.Courses, Meta: t.Meta})
	}
	return bytes.TrimSpace(rec), nil
}

// withSecret adds the one-time secret of a created session or token to its
// record JSON under name.
func withSecret(rec json.RawMessage, name, secret string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		return nil, fmt.Errorf("api: decode record: %w", err)
	}
	s, _ := json.Marshal(secret)
	m[name] = s
	return json.Marshal(m)
}

// recordInfo is what the authorization checks need from a stored record.
type recordInfo struct {
	Revision uint64 `json:"revision"`
	CourseID string `json:"course_id"`
	ModuleID string `json:"module_id"`
	ID       string `json:"id"`
	// Visibility is set for courses.
	Visibility string `json:"visibility"`
	// AssetID and RecordingAsset are the assets a lesson or a session
	// links.
	AssetID        string `json:"asset_id"`
	RecordingAsset string `json:"recording_asset"`
}

func infoOf(rec json.RawMessage) recordInfo {
	var i recordInfo
	_ = json.Unmarshal(rec, &i)
	return i
}
