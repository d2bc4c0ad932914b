package httpx

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// internalBody is the answer when a value cannot be encoded.
var internalBody = []byte("{\n  \"error\": \"internal error\",\n  \"code\": \"" + CodeInternal + "\"\n}\n")

// JSON writes v as the JSON body of an answer with status: indented two
// spaces (operators read these with curl, and scripts grep them), never
// stored. A value that cannot be encoded becomes a 500 with the API error
// body, and the error is returned for the caller to log.
func JSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, internalBody
		err = fmt.Errorf("httpx: encode the answer: %w", err)
	} else {
		b = append(b, '\n')
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return err
}
