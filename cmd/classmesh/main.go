// Command classmesh runs and operates classmesh nodes.
//
//	classmesh serve [flags]   run a node
//	classmesh members         list the cluster's members
//	classmesh keys ...        rotate the gossip key across the cluster
//	classmesh catalog ...     courses, lessons, assets... of the catalog
//	classmesh version         print the version
//
// Run "classmesh help serve" for the flags. Every command but serve and
// swarm talks to a node's /api/v1 through control/api/client (api.go);
// the commands are listed once, in commands, which the usage text and the
// command test (commands_test.go) are derived from.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one "classmesh NAME" command.
type command struct {
	name string
	// usage is its line in "classmesh help": arguments, then the summary
	// after a tab.
	usage string
	// ops are its operations ("classmesh NAME OP"), if it has any.
	ops []string
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// catalogOps are the operations of "classmesh catalog KIND OP".
var catalogOps = []string{"list", "get", "create", "update", "delete", "history", "rollback"}

// commands lists every command in the order "classmesh help" shows them
// (set in init: help reads it).
var commands []command

func init() {
	commands = []command{
		{"serve", "[flags]\trun a node (see \"classmesh help serve\")", nil, serve},
		{"members", "\tlist the cluster's members (--addr URL of a node)", nil, members},
		{"keys", "...\trotate the cluster's gossip key (classmesh keys for help)", keyOps, keys},
		{"raft", "status\tthe catalog's raft group: leader, term, voters, applied and last index", []string{"status"}, raftCmd},
		{"catalog", "KIND OP\tcourses, lessons, assets...: list|get|create|update|delete|history|rollback", catalogOps, catalogCmd},
		{"token", "create|sign\tAPI tokens; signed playback URLs for an LMS", []string{"create", "sign"}, tokenCmd},
		{"swarm", "--url URL --peers N --duration D\trehearse an event: N headless P2P viewers, prints offload and stalls", nil,
			func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				return runSwarm(args, stdout, stderr)
			}},
		{"version", "\tprint the version", nil, func(_ context.Context, _ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "classmesh", version)
			return 0
		}},
		{"help", "[command]\tshow help", nil, help},
	}
}

func findCommand(name string) (command, bool) {
	switch name {
	case "--version", "-version":
		name = "version"
	case "-h", "--help", "-help":
		name = "help"
	}
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext runs one command; ctx ending stops a running node (serve)
// or a rehearsal (swarm) as an interrupt does.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	c, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "classmesh: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func help(ctx context.Context, args []string, stdout, _ io.Writer) int {
	if len(args) > 0 && args[0] == "serve" {
		return serve(ctx, []string{"-h"}, stdout, stdout)
	}
	usage(stdout)
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, "classmesh: self-hosted video delivery for education.\n\nUsage:\n")
	for _, c := range commands {
		args, summary, _ := strings.Cut(c.usage, "\t")
		line := strings.TrimSpace("classmesh " + c.name + " " + args)
		if len(line) > 25 {
			fmt.Fprintf(w, "  %s\n  %-25s  %s\n", line, "", summary)
			continue
		}
		fmt.Fprintf(w, "  %-25s  %s\n", line, summary)
	}
	fmt.Fprint(w, `
Quick start:
  classmesh serve --demo                 a node with the demo course on :8080
  classmesh serve --media /srv/lectures  serve your own MP4 library
`)
}
