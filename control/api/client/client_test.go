package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control"
)

// answer is a canned HTTP answer.
type answer struct {
	status int
	header map[string]string
	body   string
}

func serve(t *testing.T, a answer, seen *http.Request) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			*seen = *r.Clone(context.Background())
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL + "/", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name string
		a    answer
		want Error
		text string
	}{
		{"api error body", answer{409, nil, `{"error":"stale","code":"conflict","field":"id","revision":7}`},
			Error{Status: 409, Code: "conflict", Message: "stale", Field: "id", Revision: 7}, "409 Conflict: stale"},
		{"node error body", answer{403, nil, `{"error":"not yours"}`},
			Error{Status: 403, Code: "forbidden", Message: "not yours"}, "403 Forbidden: not yours"},
		{"plain body", answer{502, nil, "bad gateway\n"}, Error{Status: 502, Message: "bad gateway"}, "502 Bad Gateway: bad gateway"},
		{"503 retry after seconds", answer{503, map[string]string{"Retry-After": "2"}, `{"error":"no leader","code":"unavailable"}`},
			Error{Status: 503, Code: "unavailable", Message: "no leader", RetryAfter: 2 * time.Second}, "503 Service Unavailable: no leader"},
		{"503 bad retry after", answer{503, map[string]string{"Retry-After": "soon"}, `{"error":"x","code":"indeterminate"}`},
			Error{Status: 503, Code: "indeterminate", Message: "x"}, "503 Service Unavailable: x"},
		{"empty body", answer{404, nil, ""}, Error{Status: 404}, "404 Not Found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := serve(t, tc.a, nil).Courses().Get(context.Background(), "c1", ReadOptions{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v", err, err)
			}
			if *e != tc.want || e.Error() != tc.text || StatusOf(err) != tc.want.Status {
				t.Fatalf("got %+v %q", *e, e.Error())
			}
		})
	}
}

func TestRequest(t *testing.T) {
	var seen http.Request
	c := serve(t, answer{200, nil, `{"id":"a/b","title":"T","revision":3}`}, &seen)
	got, err := c.Courses().Update(context.Background(), "a/b", "3", control.Course{ID: "a/b", Title: "T"})
	if err != nil || got.ID != "a/b" || got.Revision != 3 {
		t.Fatalf("%+v %v", got, err)
	}
	if seen.Method != http.MethodPut || seen.URL.EscapedPath() != "/api/v1/courses/a%2Fb" || seen.Header.Get("If-Match") != `"3"` ||
		seen.Header.Get("Authorization") != "Bearer tok" || seen.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %v", seen.Method, seen.URL.EscapedPath(), seen.Header)
	}
	if _, err := c.Courses().List(context.Background(), ReadOptions{Linearizable: true}); err != nil || seen.URL.RawQuery != "consistency=linearizable" {
		t.Fatalf("linearizable list: %q %v", seen.URL.RawQuery, err)
	}
}

// TestListShapes: GET /api/v1/assets is a bare array, every other list
// {"items": [...]}; both decode.
func TestListShapes(t *testing.T) {
	for name, body := range map[string]string{"array": `[{"id":"a"},{"id":"b"}]`, "items": `{"items":[{"id":"a"},{"id":"b"}]}`} {
		t.Run(name, func(t *testing.T) {
			got, err := serve(t, answer{200, nil, body}, nil).Assets().List(context.Background(), ReadOptions{})
			if err != nil || len(got) != 2 || got[1].ID != "b" {
				t.Fatalf("%+v %v", got, err)
			}
		})
	}
	if _, err := serve(t, answer{200, nil, `"nope"`}, nil).Assets().List(context.Background(), ReadOptions{}); err == nil {
		t.Fatal("a string decoded as a list")
	}
}

func TestUnreachable(t *testing.T) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Members(context.Background())
	var ue *UnreachableError
	if !errors.Is(err, ErrUnreachable) || !errors.As(err, &ue) || ue.URL != "http://127.0.0.1:1" {
		t.Fatalf("%T %v", err, err)
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://h/", "http://"} {
		if _, err := New(Config{BaseURL: bad}); !errors.Is(err, ErrBadBaseURL) {
			t.Errorf("New(%q): %v", bad, err)
		}
	}
}

// TestRetry: only a retryable error is sent again, at most attempts
// times; an indeterminate 503 is returned at once.
func TestRetry(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		attempts int
		calls    int32
	}{
		{"unavailable", &Error{Status: 503, Code: "unavailable"}, 3, 3},
		{"too many requests", &Error{Status: 429}, 2, 2},
		{"indeterminate", &Error{Status: 503, Code: "indeterminate"}, 3, 1},
		{"conflict", &Error{Status: 409, Code: "conflict"}, 3, 1},
		{"unreachable", &UnreachableError{URL: "u", Err: errors.New("refused")}, 3, 1},
		{"success", nil, 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			err := Retry(context.Background(), tc.attempts, func() error { calls.Add(1); return tc.err })
			if err != tc.err || calls.Load() != tc.calls {
				t.Fatalf("%d calls, %v", calls.Load(), err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	Retry(ctx, 5, func() error { calls.Add(1); return &Error{Status: 503, Code: "unavailable", RetryAfter: time.Hour} })
	if calls.Load() != 1 {
		t.Fatalf("a cancelled context was retried: %d calls", calls.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "x": 0,
		now.Add(5 * time.Second).Format(http.TimeFormat): 5 * time.Second, now.Add(-time.Minute).Format(http.TimeFormat): 0} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}
