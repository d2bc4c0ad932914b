package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/classmesh/classmesh/control/api"
)

func raftCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raft", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := adminFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: classmesh raft status [--addr URL] [--json]\n\nShows the catalog's raft group as the node at --addr sees it: applied is\nthe index its catalog has applied, commit the index known committed, last\nthe newest index in its log.\n\n")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "status" {
		fs.Usage()
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitParse(err)
	}
	c, err := f.client()
	if err != nil {
		return f.fail(stderr, "raft", err)
	}
	var st api.RaftStatus
	if err := retry(ctx, func() (err error) { st, err = c.RaftStatus(ctx); return err }); err != nil {
		return f.fail(stderr, "raft", err)
	}
	if *asJSON {
		printJSON(stdout, st)
		return 0
	}
	fmt.Fprintf(stdout, "node:        %s (%s)\nleader:      %s %s\nterm:        %d\nvoters:      %s\nnon-voters:  %s\napplied:     %d (commit %d, last %d, last snapshot %d)\n",
		st.NodeID, st.State, st.LeaderID, st.LeaderAddr, st.Term, strings.Join(st.Voters, ", "),
		strings.Join(st.Nonvoters, ", "), st.AppliedIndex, st.CommitIndex, st.LastIndex, st.LastSnapshotIndex)
	return 0
}
