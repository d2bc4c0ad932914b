package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/classmesh/classmesh/control/api"
)

// Error is a non-2xx answer of the API. Status is the HTTP status; Code,
// Message, Field and Revision come from the JSON error body (api.ErrorBody;
// Message is the raw body when it is not JSON). RetryAfter is the
// Retry-After header of a 503 or 429 (0 when absent).
type Error struct {
	Status     int
	Code       string
	Message    string
	Field      string
	Revision   uint64
	RetryAfter time.Duration
}

// Error reads like "409 Conflict: course c1 exists".
func (e *Error) Error() string {
	s := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Retryable reports whether the request was certainly not applied and may
// be sent again after RetryAfter: a 503 with code unavailable (no leader
// reachable) or a 429.
func (e *Error) Retryable() bool {
	return (e.Status == http.StatusServiceUnavailable && e.Code == api.CodeUnavailable) || e.Status == http.StatusTooManyRequests
}

// ErrUnreachable is matched (errors.Is) by every *UnreachableError.
var ErrUnreachable = errors.New("client: cannot reach the node")

// UnreachableError is a request that got no HTTP answer: the node is not
// running at URL, the connection broke, or the context ended.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("client: cannot reach the node at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// MaxRetryWait bounds the wait Retry honours for one Retry-After.
const MaxRetryWait = 10 * time.Second

// Retry calls f up to attempts times (at least once) while it fails with
// a retryable *Error, waiting the answer's Retry-After (at least 100ms, at
// most MaxRetryWait) between calls. Any other error, including an
// indeterminate 503, is returned at once: it may have been applied.
func Retry(ctx context.Context, attempts int, f func() error) error {
	for i := 1; ; i++ {
		err := f()
		var e *Error
		if err == nil || i >= attempts || !errors.As(err, &e) || !e.Retryable() {
			return err
		}
		wait := min(max(e.RetryAfter, 100*time.Millisecond), MaxRetryWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
