package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/classmesh/classmesh/control/api"
)

// keyOps are the operations of "classmesh keys".
var keyOps = []string{"list", "generate", api.GossipKeyInstall, api.GossipKeyUse, api.GossipKeyRemove}

func keys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := adminFlags(fs)
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
	if !slices.Contains(keyOps, op) {
		fmt.Fprintf(stderr, "classmesh keys: unknown operation %q\n", op)
		fs.Usage()
		return 2
	}
	if op == "generate" {
		b := make([]byte, 32)
		rand.Read(b)
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(b))
		return 0
	}
	c, err := f.client()
	if err != nil {
		return f.fail(stderr, "keys", err)
	}
	switch op {
	case "list":
		var out api.GossipKeys
		if err := retry(ctx, func() (err error) { out, err = c.GossipKeys(ctx); return err }); err != nil {
			return f.fail(stderr, "keys", err)
		}
		for _, k := range out.Keys {
			mark := ""
			if k.Primary {
				mark = " (primary)"
			}
			fmt.Fprintln(stdout, k.Fingerprint+mark)
		}
		return 0
	case api.GossipKeyInstall, api.GossipKeyUse, api.GossipKeyRemove:
		if (*key == "") == (*fp == "") {
			fmt.Fprintln(stderr, "classmesh keys: give exactly one of --key and --fingerprint")
			return 2
		}
		// Not retried: a rollout that failed half way is for the operator
		// to look at (keys list), not to repeat blindly.
		out, err := c.ChangeGossipKey(ctx, api.GossipKeyChange{Op: op, Key: *key, Fingerprint: *fp})
		if err != nil {
			return f.fail(stderr, "keys", err)
		}
		fmt.Fprintf(stdout, "%s %s: done on every live member\n", op, out.Fingerprint)
		return 0
	}
	fmt.Fprintf(stderr, "classmesh keys: unknown operation %q\n", op)
	fs.Usage()
	return 2
}
