package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/control/api/client"
)

// This file connects the commands to a node: the --addr and --token flags
// and the typed API client (control/api/client) they build.

// defaultAdminAddr is the admin listener's URL when --admin-http is left
// at its default (node.DefaultAdminAddr).
const defaultAdminAddr = "http://127.0.0.1:7948"

// defaultAddr is the public listener's URL when --http is left at its
// default.
const defaultAddr = "http://127.0.0.1:8080"

// retries is how many times a command sends a request that failed with a
// retryable error (503 unavailable: no leader, not applied), waiting the
// answer's Retry-After between: an election takes about that long.
const retries = 3

// nodeFlags are --addr and --token of a command that talks to a node.
type nodeFlags struct {
	addr, token *string
	// addrEnv names the variable --addr defaults from, for error hints.
	addrEnv string
}

// adminFlags are the flags of the operator commands (members, raft, keys):
// the admin listener by default, or any listener with an admin token.
func adminFlags(fs *flag.FlagSet) *nodeFlags {
	def := cmpOr(os.Getenv("CLASSMESH_ADMIN_ADDR"), defaultAdminAddr)
	return &nodeFlags{
		addr:    fs.String("addr", def, "URL of the node's admin listener (--admin-http), or of its public listener with --token (also CLASSMESH_ADMIN_ADDR)"),
		token:   fs.String("token", os.Getenv("CLASSMESH_TOKEN"), "admin API token, needed on the public listener (also CLASSMESH_TOKEN; a new catalog writes it to DATA/admin-token)"),
		addrEnv: "CLASSMESH_ADMIN_ADDR",
	}
}

// apiFlags are the flags of the catalog and token commands: the public
// listener and a bearer token.
func apiFlags(fs *flag.FlagSet) *nodeFlags {
	return &nodeFlags{
		addr:    fs.String("addr", cmpOr(os.Getenv("CLASSMESH_ADDR"), defaultAddr), "URL of the node to ask (also CLASSMESH_ADDR)"),
		token:   fs.String("token", os.Getenv("CLASSMESH_TOKEN"), "bearer token of the API (also CLASSMESH_TOKEN)"),
		addrEnv: "CLASSMESH_ADDR",
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// client returns the API client the flags name.
func (f *nodeFlags) client() (*client.Client, error) {
	c, err := client.New(client.Config{BaseURL: *f.addr, Token: *f.token})
	if err != nil {
		return nil, fmt.Errorf("%w: --addr %q: want a URL such as %s", errUsage, *f.addr, defaultAddr)
	}
	return c, nil
}

// retry sends a request (f) until it succeeds, fails for good or was
// tried retries times; see client.Retry.
func retry(ctx context.Context, f func() error) error { return client.Retry(ctx, retries, f) }

// describe is the message a command prints for err: the API's status and
// message, with a hint where the fix is on the command line.
func (f *nodeFlags) describe(err error) string {
	var ae *client.Error
	var ue *client.UnreachableError
	switch {
	case errors.As(err, &ue):
		return fmt.Sprintf("cannot reach the node at %s (is it running? set --addr or %s): %v", ue.URL, f.addrEnv, ue.Err)
	case errors.As(err, &ae):
		msg := ae.Error()
		switch {
		case ae.Status == http.StatusUnauthorized && *f.token == "":
			msg += " (pass --token or set CLASSMESH_TOKEN)"
		case ae.Status == http.StatusServiceUnavailable && ae.Code == api.CodeIndeterminate:
			msg += " (the write may have been applied: read before retrying)"
		case ae.RetryAfter > 0:
			msg += fmt.Sprintf(" (retry after %s)", ae.RetryAfter)
		}
		return msg
	}
	return strings.TrimPrefix(err.Error(), "client: ")
}

// fail prints err for command name and returns its exit code: 2 for a
// usage error, 1 otherwise.
func (f *nodeFlags) fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "classmesh %s: %s\n", name, f.describe(err))
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// errUsage marks an error in the command line (exit code 2).
var errUsage = errors.New("usage")
