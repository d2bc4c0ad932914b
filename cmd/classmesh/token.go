package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
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

func tokenCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := addrFlag(fs)
	auth := fs.String("token", os.Getenv("CLASSMESH_TOKEN"), "bearer token of the API (also CLASSMESH_TOKEN)")
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
	c := newAPIClient(*addr)
	var out map[string]any
	var req authedRequest
	switch pos[0] {
	case "create":
		if *role != "admin" && *role != "instructor" {
			fmt.Fprintln(stderr, "classmesh token: --role must be admin or instructor")
			return 2
		}
		body := map[string]any{"role": *role}
		if *id != "" {
			body["id"] = *id
		}
		if len(courses) > 0 {
			body["courses"] = []string(courses)
		}
		req = authedRequest{method: http.MethodPost, path: "/api/v1/tokens", token: *auth, body: body}
	case "sign":
		if (*asset == "") == (len(courses) == 0) || len(courses) > 1 {
			fmt.Fprintln(stderr, "classmesh token: sign needs exactly one of --asset or --course")
			return 2
		}
		body := map[string]any{"ttl_seconds": int(ttl.Seconds()), "subnet": *subnet, "session": *session}
		if *asset != "" {
			body["asset"] = *asset
		} else {
			body["course"] = courses[0]
		}
		req = authedRequest{method: http.MethodPost, path: "/api/v1/playback-tokens", token: *auth, body: body}
	}
	if err := c.send(req, &out); err != nil {
		fmt.Fprintln(stderr, "classmesh token:", err)
		return 1
	}
	if *asJSON {
		printJSON(stdout, out)
		return 0
	}
	switch {
	case pos[0] == "create":
		fmt.Fprintf(stdout, "id: %s\ntoken: %s\n(shown only once: store it now)\n", cell(out["id"], false), cell(out["token"], false))
	case out["url"] != nil:
		fmt.Fprintln(stdout, c.base+cell(out["url"], false))
	default:
		fmt.Fprintln(stdout, cell(out["token"], false))
	}
	return 0
}
