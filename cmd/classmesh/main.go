// Command classmesh runs and operates classmesh nodes.
//
//	classmesh serve [flags]   run a node
//	classmesh members         list the cluster's members
//	classmesh keys ...        rotate the gossip key across the cluster
//	classmesh version         print the version
//
// Run "classmesh help serve" for the flags.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "members":
		return members(args[1:], stdout, stderr)
	case "keys":
		return keys(args[1:], stdout, stderr)
	case "raft":
		return raftCmd(args[1:], stdout, stderr)
	case "catalog":
		return catalogCmd(args[1:], stdout, stderr)
	case "token":
		return tokenCmd(args[1:], stdout, stderr)
	case "swarm":
		return runSwarm(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "classmesh", version)
		return 0
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && args[1] == "serve" {
			return serve([]string{"-h"}, stdout, stdout)
		}
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "classmesh: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `classmesh: self-hosted video delivery for education.

Usage:
  classmesh serve [flags]    run a node (see "classmesh help serve")
  classmesh members          list the cluster's members (--addr URL of a node)
  classmesh keys ...         rotate the cluster's gossip key (classmesh keys for help)
  classmesh raft status      the catalog's raft group: leader, term, voters, applied index
  classmesh catalog KIND OP  courses, lessons, assets...: list|get|create|update|delete|history
  classmesh token create|sign  API tokens; signed playback URLs for an LMS
  classmesh swarm --url URL --peers N --duration D
                             rehearse an event: N headless P2P viewers, prints offload and stalls
  classmesh version          print the version
  classmesh help [command]   show help

Quick start:
  classmesh serve --demo                 a node with the demo course on :8080
  classmesh serve --media /srv/lectures  serve your own MP4 library
`)
}
