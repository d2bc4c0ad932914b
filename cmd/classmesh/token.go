package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/control/api/client"
)

const tokenUsage = `Usage:
  classmesh token create --role admin|instructor [--course ID ...] [--id ID]
      create an API token; it is printed once, with its id. Instructors
      may only touch the courses given with --course (repeatable).
  classmesh token sign (--asset ID | --course ID) [--ttl 6h] [--subnet CIDR] [--session S]
      sign a playback URL for a learner (an LMS does this per view):
      for --asset prints the URL of its master playlist, for --course the
      token, which works in /t/TOKEN/v/ASSET/... for every asset of the course.
      The node needs an active signing key (classmesh catalog keys create).

Both need an admin (or, for sign, the course's instructor) token: --token or
CLASSMESH_TOKEN.

Flags:
`

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := apiFlags(fs)
	role := fs.String("role", "", "create: admin or instructor")
	id := fs.String("id", "", "create: the token's id (default: generated)")
	var courses stringList
	fs.Var(&courses, "course", "create: a course an instructor may manage (repeatable); sign: the course to sign for")
	asset := fs.String("asset", "", "sign: the asset to sign a URL for")
	ttl := fs.Duration("ttl", 6*time.Hour, "sign: how long the URL stays valid (at most 168h)")
	subnet := fs.String("subnet", "", "sign: only clients in this CIDR may use it")
	session := fs.String("session", "", "sign: a session id bound into the token")
	asJSON := fs.Bool("json", false, "print the API's JSON response")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), tokenUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitParse(err)
	}
	if len(pos) != 1 || (pos[0] != "create" && pos[0] != "sign") {
		fs.Usage()
		return 2
	}
	var send func(c *client.Client) (any, error)
	switch pos[0] {
	case "create":
		if *role != control.RoleAdmin && *role != control.RoleInstructor {
			fmt.Fprintln(stderr, "classmesh token: --role must be admin or instructor")
			return 2
		}
		in := client.NewToken{ID: *id, Role: *role, Courses: courses}
		send = func(c *client.Client) (any, error) {
			// Not retried: an indeterminate create may have made a
			// token; a second would be a second token.
			out, err := c.CreateToken(ctx, in)
			if err == nil && !*asJSON {
				fmt.Fprintf(stdout, "id: %s\ntoken: %s\n(shown only once: store it now)\n", out.ID, out.Token)
			}
			return out, err
		}
	case "sign":
		if (*asset == "") == (len(courses) == 0) || len(courses) > 1 {
			fmt.Fprintln(stderr, "classmesh token: sign needs exactly one of --asset or --course")
			return 2
		}
		in := api.PlaybackTokenRequest{Asset: *asset, TTL: int(ttl.Seconds()), Subnet: *subnet, Session: *session}
		if *asset == "" {
			in.Course = courses[0]
		}
		send = func(c *client.Client) (any, error) {
			var out api.PlaybackToken
			err := retry(ctx, func() (err error) { out, err = c.SignPlayback(ctx, in); return err })
			switch {
			case err != nil || *asJSON:
			case out.URL != "":
				fmt.Fprintln(stdout, c.BaseURL()+out.URL)
			default:
				fmt.Fprintln(stdout, out.Token)
			}
			return out, err
		}
	}
	c, err := f.client()
	if err != nil {
		return f.fail(stderr, "token", err)
	}
	out, err := send(c)
	if err != nil {
		return f.fail(stderr, "token", err)
	}
	if *asJSON {
		printJSON(stdout, out)
	}
	return 0
}
