package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
)

type raftStatus struct {
	NodeID            string   `json:"node_id"`
	State             string   `json:"state"`
	LeaderID          string   `json:"leader_id"`
	LeaderAddr        string   `json:"leader_addr"`
	Term              uint64   `json:"term"`
	Voters            []string `json:"voters"`
	Nonvoters         []string `json:"nonvoters"`
	AppliedIndex      uint64   `json:"applied_index"`
	CommitIndex       uint64   `json:"commit_index"`
	LastSnapshotIndex uint64   `json:"last_snapshot_index"`
}

func raftCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raft", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr, token := adminFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: classmesh raft status [--addr URL] [--json]\n\nShows the catalog's raft group as the node at --addr sees it.\n\n")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "status" {
		fs.Usage()
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return exitParse(err)
	}
	var st raftStatus
	if err := newAdminClient(*addr, *token).do(http.MethodGet, "/api/v1/raft/status", nil, &st); err != nil {
		fmt.Fprintln(stderr, "classmesh raft:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return 0
	}
	fmt.Fprintf(stdout, "node:        %s (%s)\nleader:      %s %s\nterm:        %d\nvoters:      %s\nnon-voters:  %s\napplied:     %d (commit %d, last snapshot %d)\n",
		st.NodeID, st.State, st.LeaderID, st.LeaderAddr, st.Term, strings.Join(st.Voters, ", "),
		strings.Join(st.Nonvoters, ", "), st.AppliedIndex, st.CommitIndex, st.LastSnapshotIndex)
	return 0
}
