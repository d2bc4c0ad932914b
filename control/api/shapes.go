package api

import (
	"time"

	"github.com/classmesh/classmesh/control"
)

// This file holds the JSON shapes of /api/v1 that are not catalog records
// (those are the control model types, KeyView and TokenView): the ones the
// node serves itself (assets as packaged, cluster members, gossip keys,
// playback tokens) and the list envelope. They are defined once, here,
// because both the node (which writes them) and the API client
// (control/api/client, used by the CLI) import this package: a second copy
// in the client is how the CLI drifted before (issue 12).

// List is the body of every collection and history response of the
// catalog handler: {"items": [...]}. GET /api/v1/assets is the exception:
// the node answers it with a bare array of AssetView (the player reads it
// that way), see AssetView.
type List[T any] struct {
	Items []T `json:"items"`
}

// AssetView is one asset as GET /api/v1/assets (a bare JSON array of them)
// and GET /api/v1/assets/{id} show it: the catalog record (revision,
// source, updated_at) merged with what the answering node packages
// (renditions in detail, master playlist). Packaged says whether that node
// has the asset indexed; an asset only in the catalog shows the catalog's
// status and renditions. Writes (POST, PUT) take a control.Asset, and the
// history and rollback of an asset answer control.Asset records.
type AssetView struct {
	ID          string          `json:"id"`
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Source      string          `json:"source,omitempty"`
	Status      string          `json:"status"`
	Reason      string          `json:"reason,omitempty"`
	Duration    float64         `json:"duration"`
	Renditions  []RenditionView `json:"renditions"`
	Master      string          `json:"master,omitempty"`
	Packaged    bool            `json:"packaged"`
	Revision    uint64          `json:"revision,omitempty"`
	UpdatedAt   *time.Time      `json:"updated_at,omitempty"`
}

// RenditionView is one rendition of an AssetView.
type RenditionView struct {
	ID               string  `json:"id"`
	Kind             string  `json:"kind"`
	Codec            string  `json:"codec"`
	Width            int     `json:"width,omitempty"`
	Height           int     `json:"height,omitempty"`
	FrameRate        float64 `json:"frame_rate,omitempty"`
	Language         string  `json:"language,omitempty"`
	Channels         int     `json:"channels,omitempty"`
	SampleRate       int     `json:"sample_rate,omitempty"`
	Bandwidth        int64   `json:"bandwidth"`
	AverageBandwidth int64   `json:"average_bandwidth"`
	Segments         int     `json:"segments"`
	Playlist         string  `json:"playlist"`
}

// Member is one cluster member as GET /api/v1/cluster/members (a bare
// JSON array of them, an operator endpoint) shows it.
type Member struct {
	ID            string   `json:"id"`
	Roles         []string `json:"roles"`
	Region        string   `json:"region"`
	HTTPAddr      string   `json:"http_addr"`
	QUICAddr      string   `json:"quic_addr"`
	GossipAddr    string   `json:"gossip_addr"`
	State         string   `json:"state"`
	Leaving       bool     `json:"leaving,omitempty"`
	Version       string   `json:"version"`
	EgressBPS     uint64   `json:"egress_bps"`
	CapacityBPS   uint64   `json:"capacity_bps"`
	CacheFullness float32  `json:"cache_fullness"`
	Self          bool     `json:"self,omitempty"`
}

// RaftStatus is the body of GET /api/v1/raft/status (an operator
// endpoint): the answering node's view of the catalog's raft group.
type RaftStatus = control.Stats

// GossipKey is one installed gossip key: never its bytes, only its
// fingerprint (cluster.KeyFingerprint).
type GossipKey struct {
	Fingerprint string `json:"fingerprint"`
	Primary     bool   `json:"primary,omitempty"`
}

// GossipKeys is the body of GET /api/v1/cluster/keys; Primary is the
// fingerprint of the key members encrypt with ("" when gossip is not
// encrypted).
type GossipKeys struct {
	Keys    []GossipKey `json:"keys"`
	Primary string      `json:"primary"`
}

// Gossip key operations of POST /api/v1/cluster/keys.
const (
	GossipKeyInstall = "install"
	GossipKeyUse     = "use"
	GossipKeyRemove  = "remove"
)

// GossipKeyChange is the body of POST /api/v1/cluster/keys.
type GossipKeyChange struct {
	Op string `json:"op"` // GossipKeyInstall, GossipKeyUse or GossipKeyRemove
	// Key is the key itself, base64 (standard or URL alphabet), 16, 24 or
	// 32 bytes. Required for install.
	Key string `json:"key,omitempty"`
	// Fingerprint names an installed key instead of Key (use, remove),
	// as GossipKeys lists it.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// GossipKeyResult is the answer to a GossipKeyChange done on every live
// member.
type GossipKeyResult struct {
	Result      string `json:"result"` // "ok"
	Op          string `json:"op"`
	Fingerprint string `json:"fingerprint"`
}

// PlaybackTokenRequest is the body of POST /api/v1/playback-tokens: sign
// a playback token for exactly one scope (an asset, every asset of a
// course, or a live session and its recording).
type PlaybackTokenRequest struct {
	Asset   string `json:"asset,omitempty"`
	Course  string `json:"course,omitempty"`
	Session string `json:"session,omitempty"`
	// TTL is the lifetime in seconds (0 = 6 hours, at most 7 days).
	TTL int `json:"ttl_seconds,omitempty"`
	// Subnet limits the token to clients in this CIDR.
	Subnet string `json:"subnet,omitempty"`
}

// PlaybackToken is the answer (201) to a PlaybackTokenRequest. URL and
// Watch are paths on the signing node, set for asset and session scopes.
type PlaybackToken struct {
	Token   string `json:"token"`
	Expires string `json:"expires"` // RFC 3339, UTC
	Kid     string `json:"kid"`
	Subnet  string `json:"subnet,omitempty"`
	URL     string `json:"url,omitempty"`
	Watch   string `json:"watch,omitempty"`
}

// TokenCreated is the answer (201) to POST /api/v1/tokens: the token's
// view and, only this once, the token itself.
type TokenCreated struct {
	TokenView
	Token string `json:"token"`
}
