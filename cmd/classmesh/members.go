package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/classmesh/classmesh/control/api"
)

func members(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("members", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := adminFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: classmesh members [--addr URL] [--json]\n\nLists the cluster's members as the node at --addr sees them. A member in\nstate \"unverified\" is in gossip but has not proved a cluster certificate\nfor its name: it is given no work.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitParse(err)
	}
	c, err := f.client()
	if err != nil {
		return f.fail(stderr, "members", err)
	}
	var ms []api.Member
	if err := retry(ctx, func() (err error) { ms, err = c.Members(ctx); return err }); err != nil {
		return f.fail(stderr, "members", err)
	}
	if *asJSON {
		printJSON(stdout, ms)
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

func formatLoad(m api.Member) string {
	s := fmt.Sprintf("%.1f Mb/s", float64(m.EgressBPS)/1e6)
	if m.CapacityBPS > 0 {
		s += fmt.Sprintf(" (%.0f%%)", 100*float64(m.EgressBPS)/float64(m.CapacityBPS))
	}
	return s + fmt.Sprintf(", cache %.0f%%", 100*m.CacheFullness)
}

func exitParse(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
