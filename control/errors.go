package control

import (
	"errors"
	"fmt"
)

// Code classifies a catalog error; the HTTP layer maps it to a status.
type Code string

// Error codes.
const (
	CodeNotFound   Code = "not_found"   // 404
	CodeConflict   Code = "conflict"    // 409
	CodeInvalid    Code = "invalid"     // 422 (400 for malformed bodies)
	CodeRefMissing Code = "ref_missing" // 422
)

// Sentinel errors; errors.Is(err, ErrConflict) holds for any *Error with
// CodeConflict, and so on.
var (
	ErrNotFound   = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict   = &Error{Code: CodeConflict, Message: "conflict"}
	ErrInvalid    = &Error{Code: CodeInvalid, Message: "invalid"}
	ErrRefMissing = &Error{Code: CodeRefMissing, Message: "reference missing"}

	// ErrNotLeader is returned by writes and membership changes on a node
	// that is not the leader.
	ErrNotLeader = errors.New("control: not the leader")
	// ErrIndeterminate is returned when leadership was lost while a write
	// was being committed: the write may or may not take effect. It is
	// never retried automatically (a retry could apply it twice); clients
	// should read before they try again.
	ErrIndeterminate = errors.New("control: write outcome unknown (leadership lost while committing); read before retrying")
	// ErrUnavailable is returned when no leader could be reached: none
	// was elected in time, or the one known could not be dialled. The
	// write was not applied; retry after a moment (HTTP 503).
	ErrUnavailable = errors.New("control: catalog unavailable (no reachable leader); retry shortly")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("control: store closed")
	// ErrBadConfig wraps configuration errors from Config.Validate.
	ErrBadConfig = errors.New("control: bad config")
)

// Error is a catalog error produced by validation or by the FSM.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Field names the offending field for CodeInvalid, when known.
	Field string `json:"field,omitempty"`
	// Revision is the record's current revision for CodeConflict on If-Match.
	Revision uint64 `json:"revision,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("control: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("control: %s: %s", e.Code, e.Message)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

func notFound(k Kind, id string) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %q not found", k, id)}
}

func refMissing(field string, k Kind, id string) *Error {
	return &Error{Code: CodeRefMissing, Field: field, Message: fmt.Sprintf("%s %q does not exist", k, id)}
}
