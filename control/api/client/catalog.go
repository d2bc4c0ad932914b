package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/api"
)

// Collection is one record kind of the catalog, /api/v1/{path}, whose
// records read as T. Writes take any body that encodes to the kind's input
// record (the control model type, or a map for generic callers such as the
// CLI); the server rejects unknown fields.
type Collection[T any] struct {
	c    *Client
	path string
}

// Paths lists the catalog collections under /api/v1/, in the order of the
// OpenAPI document's kinds.
func Paths() []string {
	return []string{"courses", "modules", "lessons", "assets", "sessions", "sites", "keys", "tokens"}
}

// The typed collections.
func (c *Client) Courses() *Collection[control.Course] {
	return &Collection[control.Course]{c, "courses"}
}
func (c *Client) Modules() *Collection[control.Module] {
	return &Collection[control.Module]{c, "modules"}
}
func (c *Client) Lessons() *Collection[control.Lesson] {
	return &Collection[control.Lesson]{c, "lessons"}
}
func (c *Client) Sessions() *Collection[control.LiveSession] {
	return &Collection[control.LiveSession]{c, "sessions"}
}
func (c *Client) Sites() *Collection[control.Site]   { return &Collection[control.Site]{c, "sites"} }
func (c *Client) Keys() *Collection[api.KeyView]     { return &Collection[api.KeyView]{c, "keys"} }
func (c *Client) Tokens() *Collection[api.TokenView] { return &Collection[api.TokenView]{c, "tokens"} }

// AssetRecords is the asset collection as the catalog stores it (create,
// update, history, rollback, delete). Its List and Get answer what the
// node serves on those URLs, api.AssetView, which does not decode into a
// control.Asset: use Assets for them.
func (c *Client) AssetRecords() *Collection[control.Asset] {
	return &Collection[control.Asset]{c, "assets"}
}

// Assets is GET /api/v1/assets and /api/v1/assets/{id}: the assets as the
// answering node shows them (catalog record merged with what it packages).
func (c *Client) Assets() *Collection[api.AssetView] { return &Collection[api.AssetView]{c, "assets"} }

// Record is a catalog record as a JSON object, for callers generic over
// kinds.
type Record = map[string]any

// Records returns the collection at path (one of Paths) with records as
// JSON objects.
func (c *Client) Records(path string) (*Collection[Record], error) {
	if !slices.Contains(Paths(), path) {
		return nil, fmt.Errorf("client: no catalog collection %q", path)
	}
	return &Collection[Record]{c, path}, nil
}

// Path returns the collection's name under /api/v1/.
func (l *Collection[T]) Path() string { return l.path }

func (l *Collection[T]) url(id, suffix string) string {
	p := api.Prefix + l.path
	if id != "" {
		p += "/" + pathEscape(id)
	}
	return p + suffix
}

// ReadOptions are the options of a catalog read.
type ReadOptions struct {
	// Linearizable asks the node to catch its replica up with the raft
	// leader first (?consistency=linearizable); false reads the local
	// replica.
	Linearizable bool
}

func (o ReadOptions) query() string {
	if o.Linearizable {
		return "?consistency=linearizable"
	}
	return ""
}

// List returns every record the token may read. GET /api/v1/assets
// answers a bare array, every other collection {"items": [...]}: both
// decode.
func (l *Collection[T]) List(ctx context.Context, o ReadOptions) ([]T, error) {
	var raw json.RawMessage
	if err := l.c.do(ctx, call{method: http.MethodGet, path: l.url("", "") + o.query()}, &raw); err != nil {
		return nil, err
	}
	return decodeList[T](raw, l.path)
}

func decodeList[T any](raw json.RawMessage, path string) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []T
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("client: decode %s: %w", path, err)
		}
		return items, nil
	}
	var body api.List[T]
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("client: decode %s: %w", path, err)
	}
	return body.Items, nil
}

// Get returns one record.
func (l *Collection[T]) Get(ctx context.Context, id string, o ReadOptions) (T, error) {
	var out T
	err := l.c.do(ctx, call{method: http.MethodGet, path: l.url(id, "") + o.query()}, &out)
	return out, err
}

// History returns the last revisions of a record, oldest first.
func (l *Collection[T]) History(ctx context.Context, id string, o ReadOptions) ([]T, error) {
	var body api.List[T]
	if err := l.c.do(ctx, call{method: http.MethodGet, path: l.url(id, "/history") + o.query()}, &body); err != nil {
		return nil, err
	}
	return body.Items, nil
}

// Stored returns a record as the catalog stores it, the form Update takes
// back: Get, except for assets, whose GET answers the node's view; for
// them the newest revision of the history.
func (l *Collection[T]) Stored(ctx context.Context, id string) (T, error) {
	if l.path != "assets" {
		return l.Get(ctx, id, ReadOptions{})
	}
	var zero T
	h, err := l.History(ctx, id, ReadOptions{})
	if err != nil {
		return zero, err
	}
	if len(h) == 0 {
		return zero, &Error{Status: http.StatusNotFound, Code: string(control.CodeNotFound), Message: "no asset " + strconv.Quote(id)}
	}
	return h[len(h)-1], nil
}

// Create creates a record from in and returns it. For sessions and tokens
// the answer also carries the one-time secret (stream_key, token), which a
// T of Record or api.TokenCreated keeps; see CreateToken.
func (l *Collection[T]) Create(ctx context.Context, in any) (T, error) {
	var out T
	err := l.c.do(ctx, call{method: http.MethodPost, path: l.url("", ""), body: in}, &out)
	return out, err
}

// Update replaces a record with in, if its revision is still ifMatch (a
// 409 *Error with the current Revision otherwise). ifMatch is required.
func (l *Collection[T]) Update(ctx context.Context, id, ifMatch string, in any) (T, error) {
	var out T
	err := l.c.do(ctx, call{method: http.MethodPut, path: l.url(id, ""), ifMatch: ifMatch, body: in}, &out)
	return out, err
}

// Delete removes a record; ifMatch ("" = any revision) guards it.
func (l *Collection[T]) Delete(ctx context.Context, id, ifMatch string) error {
	return l.c.do(ctx, call{method: http.MethodDelete, path: l.url(id, ""), ifMatch: ifMatch}, nil)
}

// Rollback restores revision to of a record as a new revision; ifMatch
// ("" = any revision) guards it.
func (l *Collection[T]) Rollback(ctx context.Context, id string, to uint64, ifMatch string) (T, error) {
	var out T
	p := l.url(id, "/rollback") + "?revision=" + strconv.FormatUint(to, 10)
	err := l.c.do(ctx, call{method: http.MethodPost, path: p, ifMatch: ifMatch}, &out)
	return out, err
}

// EndSession ends a live session (POST /api/v1/sessions/{id}/end).
func (c *Client) EndSession(ctx context.Context, id, ifMatch string) (control.LiveSession, error) {
	var out control.LiveSession
	err := c.do(ctx, call{method: http.MethodPost, path: api.Prefix + "sessions/" + pathEscape(id) + "/end", ifMatch: ifMatch}, &out)
	return out, err
}

// NewToken is the input of CreateToken.
type NewToken struct {
	ID      string   `json:"id,omitempty"` // "" = generated
	Role    string   `json:"role"`         // control.RoleAdmin or control.RoleInstructor
	Courses []string `json:"courses,omitempty"`
}

// CreateToken creates an API token; the answer holds the token itself,
// shown only this once.
func (c *Client) CreateToken(ctx context.Context, in NewToken) (api.TokenCreated, error) {
	var out api.TokenCreated
	err := c.do(ctx, call{method: http.MethodPost, path: api.Prefix + "tokens", body: in}, &out)
	return out, err
}

// SignPlayback signs a playback token (POST /api/v1/playback-tokens).
func (c *Client) SignPlayback(ctx context.Context, in api.PlaybackTokenRequest) (api.PlaybackToken, error) {
	var out api.PlaybackToken
	err := c.do(ctx, call{method: http.MethodPost, path: api.Prefix + "playback-tokens", body: in}, &out)
	return out, err
}
