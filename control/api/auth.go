package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/classmesh/classmesh/control"
)

// Principal is the caller of a request.
type Principal struct {
	// Anonymous is true when the request carries no token; Role and
	// Courses are then empty.
	Anonymous bool
	// Role is control.RoleAdmin or control.RoleInstructor.
	Role string
	// Courses scopes an instructor.
	Courses []string
	// TokenID is the id of the API token used, for logs.
	TokenID string
}

// Admin reports whether p is an administrator.
func (p Principal) Admin() bool { return !p.Anonymous && p.Role == control.RoleAdmin }

// Teaches reports whether p is an instructor of course (or an admin).
func (p Principal) Teaches(course string) bool {
	if p.Admin() {
		return true
	}
	return !p.Anonymous && p.Role == control.RoleInstructor && course != "" && slices.Contains(p.Courses, course)
}

// Authenticator identifies the caller of a request. A request without
// credentials is an anonymous Principal, not an error; bad credentials are
// an error wrapping ErrBadToken (401).
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// TokenStore looks API tokens up by the hash of the secret (implemented by
// *control.Store).
type TokenStore interface {
	TokenByHash(hash string) (*control.APIToken, error)
}

// TokenLookup asks the catalog leader for a token the local replica does
// not know (yet); implemented by *control.Forwarder.
type TokenLookup interface {
	LookupToken(ctx context.Context, hash string) (*control.APIToken, error)
}

// TokenAuth authenticates "Authorization: Bearer <token>" against the API
// tokens of the catalog: the token is hashed with control.HashSecret and
// looked up by hash.
type TokenAuth struct {
	Reader TokenStore
	// Remote, when set, is asked before a token the local replica does
	// not know is refused: a replica that lags behind the leader (just
	// started, a slow non-voter) would otherwise answer 401 to a token
	// created a moment ago. When the leader cannot be asked the answer
	// is 503, not 401.
	Remote TokenLookup
}

// maxTokenLen bounds the bearer tokens that are hashed and looked up.
const maxTokenLen = 512

// Authenticate implements Authenticator.
func (a TokenAuth) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{Anonymous: true}, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, fmt.Errorf("%w: expected the Bearer scheme", ErrBadToken)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > maxTokenLen {
		return Principal{}, fmt.Errorf("%w: empty or oversized token", ErrBadToken)
	}
	hash := control.HashSecret(tok)
	t, err := a.Reader.TokenByHash(hash)
	if errors.Is(err, control.ErrNotFound) && a.Remote != nil {
		t, err = a.Remote.LookupToken(r.Context(), hash)
	}
	if errors.Is(err, control.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrBadToken)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("api: token lookup: %w", err)
	}
	return Principal{Role: t.Role, Courses: slices.Clone(t.Courses), TokenID: t.ID}, nil
}

// authError is returned by the authorization checks; it becomes 401 for
// anonymous callers and 403 otherwise.
type authError struct {
	anonymous bool
	msg       string
}

func (e *authError) Error() string { return "api: " + e.msg }

func deny(p Principal, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p.Anonymous {
		msg = "a bearer token is required: " + msg
	}
	return &authError{anonymous: p.Anonymous, msg: msg}
}

// canRead reports whether p may read a record that belongs to course (empty
// when the record belongs to no course) of the given visibility.
func canRead(p Principal, course, visibility string) bool {
	return course == "" || visibility == control.VisibilityPublic || p.Teaches(course)
}

// checkWrite checks that p may write records of kind k that belong to the
// given courses (the new and the current one).
func checkWrite(p Principal, s *kindSpec, courses ...string) error {
	if p.Admin() {
		return nil
	}
	if !s.instructorWrites || p.Anonymous || p.Role != control.RoleInstructor {
		return deny(p, "writing %s needs an admin token", s.path)
	}
	for _, c := range courses {
		if c != "" && !p.Teaches(c) {
			return deny(p, "the token is not scoped to course %q", c)
		}
	}
	return nil
}
