package httpx

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestError(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("ETag", `"x"`)
	rec.Header().Set("Content-Length", "99")
	Error(rec, http.StatusNotFound, "no asset \"a\"")
	h := rec.Header()
	if rec.Code != 404 || rec.Body.String() != "Not Found: no asset \"a\"\n" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	for k, want := range map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store",
		"X-Content-Type-Options": "nosniff", "ETag": "", "Content-Length": ""} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := JSON(rec, http.StatusCreated, map[string]string{"status": "ready"}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 201 || rec.Body.String() != "{\n  \"status\": \"ready\"\n}\n" ||
		rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	rec = httptest.NewRecorder()
	if err := JSON(rec, http.StatusOK, math.Inf(1)); err == nil || rec.Code != 500 {
		t.Fatalf("unencodable value: %v, %d", err, rec.Code)
	}
	var body ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != CodeInternal || body.Error == "" {
		t.Fatalf("unencodable value: body %q (%v)", rec.Body.String(), err)
	}
}

func TestAPIError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   ErrorBody
		want   string // JSON of the body, compacted
	}{
		{"code from status", 404, ErrorBody{Error: "no asset"}, `{"error":"no asset","code":"not_found"}`},
		{"code kept", 409, ErrorBody{Error: "exists", Code: "conflict", Field: "id", Revision: 3},
			`{"error":"exists","code":"conflict","field":"id","revision":3}`},
		{"media refusal", 403, ErrorBody{Error: "private", Reason: "token_required"},
			`{"error":"private","code":"forbidden","reason":"token_required"}`},
		{"unnamed status", 502, ErrorBody{Error: "rollout"}, `{"error":"rollout","code":"bad_gateway"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.status, tt.body)
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			var want map[string]any
			_ = json.Unmarshal([]byte(tt.want), &want)
			w, _ := json.Marshal(want)
			if rec.Code != tt.status || string(b) != string(w) {
				t.Errorf("got %d %s, want %d %s", rec.Code, b, tt.status, w)
			}
		})
	}
	rec := httptest.NewRecorder()
	APIError(rec, http.StatusServiceUnavailable, "no leader")
	if !strings.Contains(rec.Body.String(), `"code": "unavailable"`) {
		t.Errorf("APIError: %q", rec.Body.String())
	}
}

func TestCodeFor(t *testing.T) {
	for status, want := range map[int]string{400: "bad_request", 401: "unauthorized", 403: "forbidden",
		404: "not_found", 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid",
		429: "too_many_requests", 500: "internal", 502: "bad_gateway", 503: "unavailable", 599: "internal", 499: "bad_request"} {
		if got := CodeFor(status); got != want {
			t.Errorf("CodeFor(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestServeBody(t *testing.T) {
	body := []byte("0123456789")
	tag := Tag(body)
	tests := []struct {
		name    string
		method  string
		header  map[string]string
		file    bool
		status  int
		want    string
		headers map[string]string
	}{
		{"get", "GET", nil, false, 200, "0123456789", map[string]string{"ETag": tag, "Content-Length": "10", "Accept-Ranges": "bytes", "Content-Type": "video/mp4"}},
		{"get from a file", "GET", nil, true, 200, "0123456789", map[string]string{"ETag": tag, "Content-Length": "10"}},
		{"head", "HEAD", nil, false, 200, "", map[string]string{"Content-Length": "10"}},
		{"if-none-match", "GET", map[string]string{"If-None-Match": tag}, false, 304, "", map[string]string{"ETag": tag, "Content-Type": ""}},
		{"if-none-match weak in a list", "GET", map[string]string{"If-None-Match": `"x", W/` + tag}, false, 304, "", nil},
		{"if-none-match star", "GET", map[string]string{"If-None-Match": "*"}, true, 304, "", nil},
		{"if-none-match other", "GET", map[string]string{"If-None-Match": `"other"`}, false, 200, "0123456789", nil},
		{"range", "GET", map[string]string{"Range": "bytes=2-4"}, false, 206, "234", map[string]string{"Content-Range": "bytes 2-4/10"}},
		{"range from a file", "GET", map[string]string{"Range": "bytes=-3"}, true, 206, "789", nil},
		{"range unsatisfiable", "GET", map[string]string{"Range": "bytes=10-"}, false, 416, "range not satisfiable\n", map[string]string{"Content-Range": "bytes */10"}},
		{"range malformed", "GET", map[string]string{"Range": "bytes=x"}, false, 200, "0123456789", nil},
		{"if-range other", "GET", map[string]string{"Range": "bytes=0-0", "If-Range": `"other"`}, false, 200, "0123456789", nil},
		{"if-range current", "GET", map[string]string{"Range": "bytes=0-0", "If-Range": tag}, false, 206, "0", nil},
		{"if-match other", "GET", map[string]string{"If-Match": `"other"`}, false, 412, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/x", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "video/mp4")
			b := Body{Bytes: body}
			if tt.file {
				b = Body{Tag: tag, File: strings.NewReader(string(body)), Size: int64(len(body))}
			}
			ServeBody(rec, r, b)
			if rec.Code != tt.status || rec.Body.String() != tt.want {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.want)
			}
			for k, want := range tt.headers {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestServeBytes(t *testing.T) {
	rec := httptest.NewRecorder()
	ServeBytes(rec, httptest.NewRequest("GET", "/init.mp4", nil), []byte("init"), "audio/mp4", "public, max-age=31536000, immutable")
	h := rec.Header()
	if rec.Code != 200 || rec.Body.String() != "init" || h.Get("Content-Type") != "audio/mp4" ||
		h.Get("Cache-Control") != "public, max-age=31536000, immutable" || h.Get("ETag") != Tag([]byte("init")) {
		t.Fatalf("got %d %q %v", rec.Code, rec.Body.String(), h)
	}
}

func TestEncoding(t *testing.T) {
	tests := []struct {
		accept string
		offers []string
		want   string
	}{
		// One offer (the player's pages).
		{"", []string{"gzip"}, ""},
		{"gzip", []string{"gzip"}, "gzip"},
		{"GZIP", []string{"gzip"}, "gzip"},
		{"deflate, gzip;q=0.5", []string{"gzip"}, "gzip"},
		{"gzip;q=0", []string{"gzip"}, ""},
		{"gzip; q=0.000", []string{"gzip"}, ""},
		{"gzip;q=bad", []string{"gzip"}, ""},
		{"gzip;q=2", []string{"gzip"}, ""},
		{"*;q=0.1", []string{"gzip"}, "gzip"},
		{"*;q=0.1, gzip;q=0", []string{"gzip"}, ""},
		{"gzip;q=0, *", []string{"gzip"}, ""},
		{"identity", []string{"gzip"}, ""},
		{"x-gzip", []string{"gzip"}, "gzip"},
		// Two (playlists, hash lists): the higher quality, ties to the first.
		{"zstd, gzip", []string{"zstd", "gzip"}, "zstd"},
		{"gzip, zstd", []string{"zstd", "gzip"}, "zstd"},
		{"gzip;q=1, zstd;q=0.5", []string{"zstd", "gzip"}, "gzip"},
		{"br", []string{"zstd", "gzip"}, ""},
		{"*", []string{"zstd", "gzip"}, "zstd"},
		{"zstd;q=0, *", []string{"zstd", "gzip"}, "gzip"},
		{"zstd", []string{"gzip"}, ""},
		{"gzip", nil, ""},
		{strings.Repeat(" ", 1100) + "gzip", []string{"gzip"}, ""},
	}
	for _, tt := range tests {
		if got := Encoding([]string{tt.accept}, tt.offers...); got != tt.want {
			t.Errorf("Encoding(%.40q, %q) = %q, want %q", tt.accept, tt.offers, got, tt.want)
		}
	}
	if got := Encoding([]string{"deflate", "gzip"}, "gzip"); got != "gzip" {
		t.Errorf("two header lines: %q", got)
	}
}
