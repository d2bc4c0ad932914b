package httpx

import (
	"net/http"
	"strings"
)

// Codes of the API error body. The catalog adds its own (control.Code:
// not_found, conflict, invalid, ref_missing; control/api: indeterminate,
// precondition_required); these are the ones a status implies.
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeInvalid      = "invalid"
	CodeTooLarge     = "too_large"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
)

// ErrorBody is the JSON of every error answer of /api/v1, and of the
// media refusals (403) of /v/, /live/ and /p2p/ws. Clients read Error and
// Code (control/api/client decodes it into its typed error; the player
// reads error and reason).
type ErrorBody struct {
	// Error is the message, for people.
	Error string `json:"error"`
	// Code is the machine-readable kind of error (the Code* constants, or
	// the catalog's own).
	Code string `json:"code"`
	// Field names the request field at fault, if one is.
	Field string `json:"field,omitempty"`
	// Revision is the current revision on a failed If-Match.
	Revision uint64 `json:"revision,omitempty"`
	// Reason is why access to media was refused (control/access's reason
	// codes, docs/security.md); only on 403 media refusals.
	Reason string `json:"reason,omitempty"`
}

// APIError answers status with the API error body {"error": msg, "code":
// CodeFor(status)}.
func APIError(w http.ResponseWriter, status int, msg string) {
	WriteError(w, status, ErrorBody{Error: msg})
}

// WriteError answers status with body; an empty Code becomes
// CodeFor(status).
func WriteError(w http.ResponseWriter, status int, body ErrorBody) {
	if body.Code == "" {
		body.Code = CodeFor(status)
	}
	_ = JSON(w, status, body) // an ErrorBody always encodes
}

// CodeFor is the code a status implies: the Code* constant of a status
// the API answers with a code of its own, else the status text in
// snake case ("bad_gateway").
func CodeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeConflict
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusUnprocessableEntity:
		return CodeInvalid
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	case http.StatusInternalServerError:
		return CodeInternal
	}
	text := http.StatusText(status)
	if text == "" {
		if status >= 500 {
			return CodeInternal
		}
		return CodeBadRequest
	}
	return strings.ReplaceAll(strings.ToLower(text), " ", "_")
}
