package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/control/api/client"
)

// commandRow is one CLI invocation of TestEveryCommand against a real
// node. In args, {NAME} is replaced by a value an earlier row saved.
type commandRow struct {
	args []string
	// admin sends the command to the node's admin listener (no token);
	// otherwise to its public listener, with the admin token unless anon.
	admin bool
	anon  bool
	code  int
	want  []string // substrings of stdout (code 0) or stderr
	// notWant must not be in the output.
	notWant string
	// save names the values to keep from stdout: name -> a regexp whose
	// first group is the value.
	save map[string]string
}

// rowKey is the subcommand a row runs, as subcommands lists them.
func rowKey(args []string) string {
	c, ok := findCommand(args[0])
	switch {
	case !ok || len(c.ops) == 0:
		return args[0]
	case c.name == "catalog" && len(args) > 2:
		return c.name + " " + args[2]
	case len(args) > 1:
		return c.name + " " + args[1]
	}
	return c.name
}

// subcommands lists every subcommand from the command table: a command,
// or a command and each of its operations.
func subcommands() []string {
	var out []string
	for _, c := range commands {
		if len(c.ops) == 0 {
			out = append(out, c.name)
		}
		for _, op := range c.ops {
			out = append(out, c.name+" "+op)
		}
	}
	return out
}

// TestEveryCommand runs each CLI command against a real node, in order
// (later rows use what earlier rows made), and fails when a subcommand of
// the command table has no row: a new command comes with its test.
func TestEveryCommand(t *testing.T) {
	n := startCatalogNode(t)
	if n.AdminURL() == "" {
		t.Fatal("the node has no admin listener")
	}
	rows := []commandRow{
		{args: []string{"version"}, want: []string{"classmesh dev"}},
		{args: []string{"help"}, want: []string{"classmesh catalog KIND OP", "classmesh raft status"}},
		{args: []string{"members"}, admin: true, want: []string{"NAME", "(self)", "edge", "alive"}},
		{args: []string{"members", "--json"}, want: []string{`"self": true`, `"http_addr"`}},
		{args: []string{"raft", "status"}, admin: true, want: []string{"leader:", "voters:", "applied:", ", last "}},
		{args: []string{"raft", "status", "--json"}, admin: true, want: []string{`"last_index"`, `"applied_index"`}},
		{args: []string{"raft", "status"}, anon: true, code: 1, want: []string{"classmesh raft: 401 Unauthorized", "--token"}},
		{args: []string{"keys", "list"}, admin: true, want: []string{"(primary)"}, save: map[string]string{"FP1": `(?m)^([0-9a-f]+) \(primary\)$`}},
		{args: []string{"keys", "generate"}, save: map[string]string{"KEY": `^([A-Za-z0-9+/=]{44})\n$`}},
		{args: []string{"keys", "install", "--key", "{KEY}"}, admin: true, want: []string{"install ", "done on every live member"}},
		{args: []string{"keys", "use", "--key", "{KEY}"}, admin: true, want: []string{"use "}},
		{args: []string{"keys", "remove", "--fingerprint", "{FP1}"}, admin: true, want: []string{"remove {FP1}: done"}},
		{args: []string{"keys", "list"}, admin: true, want: []string{"(primary)"}, notWant: "{FP1}"},
		{args: []string{"keys", "remove"}, admin: true, code: 2, want: []string{"exactly one of --key and --fingerprint"}},
		{args: []string{"swarm", "--url", "{URL}/v/demo/master.m3u8", "--peers", "1", "--duration", "1s", "--p2p=false", "--json"},
			want: []string{`"peers":1`, `"p2p":false`}},
		// The bug of issue 12: the node answers GET /api/v1/assets with a
		// bare array.
		{args: []string{"catalog", "assets", "list"}, want: []string{"ID", "RENDITIONS", "REVISION", "demo", "ready"}},
		{args: []string{"catalog", "assets", "list", "--json"}, want: []string{`"items"`, `"id": "demo"`, `"packaged": true`}},
		{args: []string{"catalog", "assets", "get", "demo"}, want: []string{`"master": "/v/demo/master.m3u8"`}},
		{args: []string{"catalog", "assets", "update", "demo", "--set", "title=Demo lecture"}, want: []string{"updated asset demo (revision "}},
		{args: []string{"catalog", "assets", "history", "demo"}, want: []string{"REVISION", "Demo lecture"}},
		{args: []string{"catalog", "courses", "create", "--set", "id=c1", "--set", "title=Physics", "--set", "visibility=public"},
			want: []string{"created course c1"}, save: map[string]string{"REV1": `\(revision (\d+)\)`}},
		{args: []string{"catalog", "courses", "update", "c1", "--set", "title=Physics I"}, want: []string{"updated course c1"}},
		{args: []string{"catalog", "courses", "rollback", "c1", "--to", "{REV1}"}, want: []string{"rolled back course c1"}},
		{args: []string{"catalog", "courses", "get", "c1"}, want: []string{`"title": "Physics"`}},
		{args: []string{"catalog", "courses", "rollback", "c1"}, code: 2, want: []string{"needs --to"}},
		{args: []string{"catalog", "sites", "create", "--set", "name=campus", "--set", `cidrs=["10.0.0.0/8"]`, "--set", "p2p_policy=on"},
			want: []string{"created site campus"}},
		{args: []string{"catalog", "sites", "delete", "campus"}, want: []string{"deleted site campus"}},
		{args: []string{"catalog", "sites", "get", "campus"}, code: 1, want: []string{"classmesh catalog: 404 Not Found"}},
		{args: []string{"catalog", "keys", "create", "--set", "kid=k1", "--set", "secret=0123456789abcdef0123456789abcdef",
			"--set", "not_before=2020-01-01T00:00:00Z", "--set", "not_after=2100-01-01T00:00:00Z"}, want: []string{"created key k1"}},
		{args: []string{"token", "create", "--role", "instructor", "--course", "c1", "--id", "t1"},
			want: []string{"id: t1\ntoken: "}, save: map[string]string{"TOKEN": `token: (\S+)`}},
		{args: []string{"catalog", "tokens", "list"}, want: []string{"t1", "instructor", "c1"}, notWant: "{TOKEN}"},
		{args: []string{"token", "sign", "--asset", "demo", "--ttl", "10m"}, want: []string{"{URL}/t/", "/v/demo/master.m3u8"}},
		{args: []string{"token", "sign", "--course", "c1", "--json"}, want: []string{`"token": "`, `"kid": "k1"`}},
		{args: []string{"token", "sign"}, code: 2, want: []string{"exactly one of --asset or --course"}},
	}
	// Every collection lists, the catalog's own and the node's assets.
	for _, kind := range client.Paths() {
		rows = append(rows, commandRow{args: []string{"catalog", kind, "list"}, want: []string{"REVISION"}})
	}

	saved := map[string]string{"URL": n.URL()}
	expand := func(s string) string {
		for k, v := range saved {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	covered := map[string]bool{"serve": true} // TestServeCommand
	for _, r := range rows {
		covered[rowKey(r.args)] = true
	}
	for _, sub := range subcommands() {
		if !covered[sub] {
			t.Errorf("subcommand %q has no row in TestEveryCommand", sub)
		}
	}
	for _, r := range rows {
		args := make([]string, len(r.args))
		for i, a := range r.args {
			args[i] = expand(a)
		}
		t.Run(strings.Join(r.args, " "), func(t *testing.T) {
			switch {
			case r.admin:
				args = append(args, "--addr", n.AdminURL())
			case slices.Contains([]string{"members", "raft", "keys", "catalog", "token"}, args[0]):
				args = append(args, "--addr", n.URL())
				if !r.anon {
					args = append(args, "--token", n.AdminToken())
				}
			}
			var out, errOut bytes.Buffer
			code := run(args, &out, &errOut)
			got := errOut.String()
			if r.code == 0 {
				got = out.String()
			}
			if code != r.code {
				t.Fatalf("%v: code %d (want %d)\nstdout:\n%s\nstderr:\n%s", args, code, r.code, out.String(), errOut.String())
			}
			for _, w := range r.want {
				if w = expand(w); !strings.Contains(got, w) {
					t.Fatalf("output lacks %q:\n%s", w, got)
				}
			}
			if nw := expand(r.notWant); nw != "" && strings.Contains(got, nw) {
				t.Fatalf("output has %q:\n%s", nw, got)
			}
			for name, re := range r.save {
				m := regexp.MustCompile(re).FindStringSubmatch(out.String())
				if m == nil {
					t.Fatalf("no %s (%s) in:\n%s", name, re, out.String())
				}
				saved[name] = m[1]
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeCommand runs "classmesh serve" in this process on loopback
// ports, asks it for its assets and stops it as an interrupt would.
func TestServeCommand(t *testing.T) {
	media, err := filepath.Abs("../../testdata/media")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"serve", "--data", t.TempDir(), "--media", media, "--http", "127.0.0.1:0",
			"--gossip", "127.0.0.1:0", "--quic", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--admin-http", "127.0.0.1:0",
			"--gossip-profile", "local", "--rescan", "-1s", "--log-level", "warn"}, &out, &errOut)
	}()
	re := regexp.MustCompile(`classmesh is serving at (http://\S+)/\n`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s%s", code, out.String(), errOut.String())
		default:
		}
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never said where it serves:\n%s%s", out.String(), errOut.String())
		}
	}
	if !strings.Contains(out.String(), "admin API token") {
		t.Errorf("a new catalog's admin token was not shown:\n%s", out.String())
	}
	resp, err := http.Get(base + "/api/v1/assets")
	if err != nil {
		t.Fatal(err)
	}
	var assets []api.AssetView
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &assets) != nil {
		t.Fatalf("GET /api/v1/assets: %d %s", resp.StatusCode, b)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d after the interrupt:\n%s", code, errOut.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
	}
}
