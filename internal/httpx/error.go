package httpx

import "net/http"

// Error writes a short plain-text error: "Status Text: msg\n" with status.
// It removes the Content-Length and ETag a handler may have set for the
// body it meant to send, and marks the answer not to be stored or sniffed.
func Error(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("ETag")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status) + ": " + msg + "\n"))
}
