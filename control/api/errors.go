package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/internal/httpx"
)

// Error codes of the API besides control's (not_found, conflict, invalid,
// ref_missing).
// The ones a status implies are internal/httpx's, the codes of every
// /api/v1 answer, the node's own endpoints' too.
const (
	CodeBadRequest           = httpx.CodeBadRequest
	CodeTooLarge             = httpx.CodeTooLarge
	CodeUnauthorized         = httpx.CodeUnauthorized
	CodeForbidden            = httpx.CodeForbidden
	CodePreconditionRequired = "precondition_required"
	CodeUnavailable          = httpx.CodeUnavailable
	// CodeIndeterminate: the write may or may not have been applied
	// (leadership changed while it was being committed); read first.
	CodeIndeterminate = "indeterminate"
	CodeInternal      = httpx.CodeInternal
)

// RetryAfterSeconds is the Retry-After of every 503: about two raft
// elections, so a client retrying once usually finds the new leader.
const RetryAfterSeconds = "2"

// ErrorBody is the JSON of every error response of /api/v1, the catalog's
// and the node's own endpoints' alike (the client decodes it into its
// typed error). It is internal/httpx's, which writes it.
type ErrorBody = httpx.ErrorBody

// statusError is an error with an explicit status and code.
type statusError struct {
	status int
	code   string
	field  string
	msg    string
}

func (e *statusError) Error() string { return "api: " + e.msg }

func errStatus(status int, code, field, format string, args ...any) error {
	return &statusError{status: status, code: code, field: field, msg: fmt.Sprintf(format, args...)}
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// errorResponse maps err to a status and a body.
func errorResponse(err error) (int, ErrorBody) {
	var (
		ce *control.Error
		se *statusError
		be *bodyError
		ae *authError
	)
	switch {
	case errors.As(err, &ce):
		return controlStatus(ce.Code), ErrorBody{Error: ce.Message, Code: string(ce.Code), Field: ce.Field, Revision: ce.Revision}
	case errors.As(err, &se):
		return se.status, ErrorBody{Error: se.msg, Code: se.code, Field: se.field}
	case errors.As(err, &be):
		return http.StatusBadRequest, ErrorBody{Error: be.msg, Code: CodeBadRequest, Field: be.field}
	case isTooLarge(err):
		var mbe *http.MaxBytesError
		errors.As(err, &mbe)
		return http.StatusRequestEntityTooLarge, ErrorBody{Error: fmt.Sprintf("request body exceeds %d bytes", mbe.Limit), Code: CodeTooLarge}
	case errors.As(err, &ae) && ae.anonymous:
		return http.StatusUnauthorized, ErrorBody{Error: ae.msg, Code: CodeUnauthorized}
	case errors.As(err, &ae):
		return http.StatusForbidden, ErrorBody{Error: ae.msg, Code: CodeForbidden}
	case errors.Is(err, ErrBadToken):
		return http.StatusUnauthorized, ErrorBody{Error: err.Error(), Code: CodeUnauthorized}
	case errors.Is(err, control.ErrIndeterminate):
		return http.StatusServiceUnavailable, ErrorBody{Error: err.Error(), Code: CodeIndeterminate}
	case errors.Is(err, control.ErrNotLeader), errors.Is(err, control.ErrClosed), errors.Is(err, control.ErrUnavailable),
		errors.Is(err, control.ErrForwardFailed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, ErrNoLinearizer):
		return http.StatusServiceUnavailable, ErrorBody{Error: err.Error(), Code: CodeUnavailable}
	}
	return http.StatusInternalServerError, ErrorBody{Error: "internal error", Code: CodeInternal}
}

func controlStatus(c control.Code) int {
	switch c {
	case control.CodeNotFound:
		return http.StatusNotFound
	case control.CodeConflict:
		return http.StatusConflict
	case control.CodeInvalid:
		// A value that can never be valid (bad id, CIDR, enum): a bad
		// request, with the field named in the body.
		return http.StatusBadRequest
	default: // ref_missing: well formed, but it names what does not exist
		return http.StatusUnprocessableEntity
	}
}

// writeError writes err as a JSON error response.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(err)
	switch {
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="classmesh"`)
	case status == http.StatusServiceUnavailable:
		// No leader, or it died with the request in flight: an election
		// takes about a second; read first when the code is indeterminate.
		w.Header().Set("Retry-After", RetryAfterSeconds)
		h.log.Warn("api: catalog unavailable", "method", r.Method, "path", r.URL.Path, "code", body.Code, "err", err)
	case status >= 500:
		h.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if body.Revision != 0 {
		w.Header().Set("ETag", etag(body.Revision))
	}
	httpx.WriteError(w, status, body)
}

// writeJSON writes v as the JSON response body.
func (h *handler) writeJSON(w http.ResponseWriter, status int, v any) {
	if err := httpx.JSON(w, status, v); err != nil {
		h.log.Error("api: encode response", "err", err)
	}
}

func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }
