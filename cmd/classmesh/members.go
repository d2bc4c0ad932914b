package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// apiClient talks to a node's /api/v1 (by default the local node).
type apiClient struct {
	base  string
	token string // bearer token sent when not ""
	http  *http.Client
}

// defaultAdminAddr is the admin listener's URL when --admin-http is left
// at its default (node.DefaultAdminAddr).
const defaultAdminAddr = "http://127.0.0.1:7948"

// adminFlags are the flags of the operator commands (members, raft, keys):
// the admin listener by default, or any listener with an admin token.
func adminFlags(fs *flag.FlagSet) (addr, token *string) {
	def := cmpOr(os.Getenv("CLASSMESH_ADMIN_ADDR"), defaultAdminAddr)
	addr = fs.String("addr", def, "URL of the node's admin listener (--admin-http), or of its public listener with --token (also CLASSMESH_ADMIN_ADDR)")
	token = fs.String("token", os.Getenv("CLASSMESH_TOKEN"), "admin API token, needed on the public listener (also CLASSMESH_TOKEN; a new catalog writes it to DATA/admin-token)")
	return addr, token
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func addrFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("CLASSMESH_ADDR")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	return fs.String("addr", def, "URL of the node to ask (also CLASSMESH_ADDR)")
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}
}

func (c *apiClient) do(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the node at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			if resp.StatusCode == http.StatusUnauthorized && c.token == "" {
				e.Error += " (classmesh: pass --token or CLASSMESH_TOKEN)"
			}
			return fmt.Errorf("%s: %s", resp.Status, e.Error)
		}
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, out)
}

type member struct {
	ID            string   `json:"id"`
	Roles         []string `json:"roles"`
	Region        string   `json:"region"`
	HTTPAddr      string   `json:"http_addr"`
	State         string   `json:"state"`
	Leaving       bool     `json:"leaving"`
	Version       string   `json:"version"`
	EgressBPS     uint64   `json:"egress_bps"`
	CapacityBPS   uint64   `json:"capacity_bps"`
	CacheFullness float32  `json:"cache_fullness"`
	Self          bool     `json:"self"`
}

func members(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("members", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr, token := adminFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: classmesh members [--addr URL] [--json]\n\nLists the cluster's members as the node at --addr sees them. A member in\nstate \"unverified\" is in gossip but has not proved a cluster certificate\nfor its name: it is given no work.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitParse(err)
	}
	var ms []member
	if err := newAdminClient(*addr, *token).do(http.MethodGet, "/api/v1/cluster/members", nil, &ms); err != nil {
		fmt.Fprintln(stderr, "classmesh members:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(ms)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLES\tREGION\tADDRESS\tSTATE\tLOAD\tVERSION")
	for _, m := range ms {
		name, state := m.ID, m.State
		if m.Self {
			name += " (self)"
		}
		if m.Leaving {
			state += ",leaving"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, strings.Join(m.Roles, ","), m.Region,
			m.HTTPAddr, state, formatLoad(m), m.Version)
	}
	tw.Flush()
	return 0
}

func newAdminClient(base, token string) *apiClient {
	c := newAPIClient(base)
	c.token = token
	return c
}

func formatLoad(m member) string {
	s := fmt.Sprintf("%.1f Mb/s", float64(m.EgressBPS)/1e6)
	if m.CapacityBPS > 0 {
		s += fmt.Sprintf(" (%.0f%%)", 100*float64(m.EgressBPS)/float64(m.CapacityBPS))
	}
	return s + fmt.Sprintf(", cache %.0f%%", 100*m.CacheFullness)
}

func keys(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr, token := adminFlags(fs)
	key := fs.String("key", "", "the gossip key, base64 (16, 24 or 32 bytes)")
	fp := fs.String("fingerprint", "", "an installed key by its fingerprint, as keys list shows it (use, remove)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: classmesh keys list|generate|install|use|remove [--key KEY | --fingerprint FP] [--addr URL] [--token T]

Rotates the gossip encryption key of the whole cluster without downtime:
  classmesh keys generate                 print a new random key (keep it secret)
  classmesh keys install --key NEW        every member can now decrypt NEW
  classmesh keys use --key NEW            every member now encrypts with NEW
  classmesh keys remove --fingerprint FP  every member forgets the old key
  classmesh keys list                     fingerprints of the installed keys
Keys are never shown by a node, only their fingerprints (SHA-256, 8 bytes).
These are operator commands: they talk to the admin listener
(--admin-http, default 127.0.0.1:7948), or to any listener with an admin
token.

`)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	op, rest := args[0], args[1:]
	if err := fs.Parse(rest); err != nil {
		return exitParse(err)
	}
	client := newAdminClient(*addr, *token)
	switch op {
	case "generate":
		b := make([]byte, 32)
		rand.Read(b)
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(b))
		return 0
	case "list":
		var out struct {
			Keys []struct {
				Fingerprint string `json:"fingerprint"`
				Primary     bool   `json:"primary"`
			} `json:"keys"`
		}
		if err := client.do(http.MethodGet, "/api/v1/cluster/keys", nil, &out); err != nil {
			fmt.Fprintln(stderr, "classmesh keys:", err)
			return 1
		}
		for _, k := range out.Keys {
			mark := ""
			if k.Primary {
				mark = " (primary)"
			}
			fmt.Fprintln(stdout, k.Fingerprint+mark)
		}
		return 0
	case "install", "use", "remove":
		if (*key == "") == (*fp == "") {
			fmt.Fprintln(stderr, "classmesh keys: give exactly one of --key and --fingerprint")
			return 2
		}
		var out map[string]string
		body := map[string]string{"op": op, "key": *key, "fingerprint": *fp}
		if err := client.do(http.MethodPost, "/api/v1/cluster/keys", body, &out); err != nil {
			fmt.Fprintln(stderr, "classmesh keys:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s %s: done on every live member\n", op, out["fingerprint"])
		return 0
	}
	fmt.Fprintf(stderr, "classmesh keys: unknown operation %q\n", op)
	fs.Usage()
	return 2
}

func exitParse(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
