package client

import (
	"context"
	"net/http"

	"github.com/classmesh/classmesh/control/api"
)

// The operator endpoints: served on the admin listener (--admin-http)
// without a token, or on any listener with an admin token.

// Members returns the cluster's members as the node sees them.
func (c *Client) Members(ctx context.Context) ([]api.Member, error) {
	var out []api.Member
	err := c.do(ctx, call{method: http.MethodGet, path: api.Prefix + "cluster/members"}, &out)
	return out, err
}

// RaftStatus returns the node's view of the catalog's raft group.
func (c *Client) RaftStatus(ctx context.Context) (api.RaftStatus, error) {
	var out api.RaftStatus
	err := c.do(ctx, call{method: http.MethodGet, path: api.Prefix + "raft/status"}, &out)
	return out, err
}

// GossipKeys lists the fingerprints of the installed gossip keys.
func (c *Client) GossipKeys(ctx context.Context) (api.GossipKeys, error) {
	var out api.GossipKeys
	err := c.do(ctx, call{method: http.MethodGet, path: api.Prefix + "cluster/keys"}, &out)
	return out, err
}

// ChangeGossipKey installs, uses or removes a gossip key on every live
// member.
func (c *Client) ChangeGossipKey(ctx context.Context, ch api.GossipKeyChange) (api.GossipKeyResult, error) {
	var out api.GossipKeyResult
	err := c.do(ctx, call{method: http.MethodPost, path: api.Prefix + "cluster/keys", body: ch}, &out)
	return out, err
}
