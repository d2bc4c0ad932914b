package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/classmesh/classmesh/control/api"
)

// DefaultTimeout is the time limit of one request when Config.HTTP is nil.
const DefaultTimeout = 30 * time.Second

// maxBody bounds a response body the client reads (a catalog list of many
// thousand records fits).
const maxBody = 16 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the node's listener, e.g. http://127.0.0.1:8080 (the
	// public listener) or http://127.0.0.1:7948 (the admin listener).
	// Required; a trailing slash is ignored.
	BaseURL string
	// Token is the bearer token sent with every request; empty sends none
	// (anonymous on the public listener; the admin listener needs none).
	Token string
	// HTTP does the requests; nil means a client with DefaultTimeout.
	HTTP *http.Client
}

// Client calls one node's /api/v1. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// ErrBadBaseURL is returned by New for a base URL that is not http(s).
var ErrBadBaseURL = errors.New("client: base URL must be http:// or https:// with a host")

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q", ErrBadBaseURL, cfg.BaseURL)
	}
	h := cfg.HTTP
	if h == nil {
		h = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: u.String(), token: cfg.Token, http: h}, nil
}

// BaseURL returns the node's URL without a trailing slash; paths the API
// answers (PlaybackToken.URL) are relative to it.
func (c *Client) BaseURL() string { return c.base }

// HasToken reports whether the client sends a bearer token.
func (c *Client) HasToken() bool { return c.token != "" }

// call is one request.
type call struct {
	method, path string
	// ifMatch is a record revision, sent as If-Match: "REV" when not "".
	ifMatch string
	body    any
}

// do sends cl and decodes a 2xx JSON answer into out (when not nil and the
// body is not empty).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var rd io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("client: encode %s %s: %w", cl.method, cl.path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, rd)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", cl.method, cl.path, err)
	}
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if cl.ifMatch != "" {
		req.Header.Set("If-Match", strconv.Quote(strings.Trim(cl.ifMatch, `"`)))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &UnreachableError{URL: c.base, Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &UnreachableError{URL: c.base, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp, b)
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: %s %s: decode the answer: %w", cl.method, cl.path, err)
	}
	return nil
}

// decodeError turns a non-2xx answer into an *Error.
func decodeError(resp *http.Response, b []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	var body api.ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		e.Code, e.Message, e.Field, e.Revision = body.Code, body.Error, body.Field, body.Revision
	} else {
		e.Message = strings.TrimSpace(string(b))
	}
	if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	e.Code = cmp.Or(e.Code, codeOf(resp.StatusCode))
	return e
}

// codeOf is the code of an answer that is not the API's error body (every
// /api/v1 answer carries a code: internal/httpx writes it): a plain-text
// 400 for a bad path, or a proxy's error. Only refusals get one; a 503
// from something else says nothing of whether a write was applied, so it
// is not made retryable.
func codeOf(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return api.CodeUnauthorized
	case http.StatusForbidden:
		return api.CodeForbidden
	case http.StatusBadRequest:
		return api.CodeBadRequest
	}
	return ""
}

// pathEscape escapes an id for one path segment.
func pathEscape(id string) string { return url.PathEscape(id) }
