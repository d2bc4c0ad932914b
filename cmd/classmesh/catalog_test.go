package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control/api/client"
	"github.com/classmesh/classmesh/node"
)

// startCatalogNode runs a lone node on the demo media and waits until the
// demo asset is in its catalog.
func startCatalogNode(t *testing.T) *node.Node {
	t.Helper()
	media, err := filepath.Abs("../../testdata/media")
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), MediaDir: media,
		GossipAddr: "127.0.0.1:0", QUICAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", AdminHTTPAddr: "127.0.0.1:0",
		GossipProfile: "local", RescanInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); n.Close() })
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if a, err := n.Catalog().Asset("demo"); err == nil && a.Status == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo asset never reached the catalog")
		}
	}
	return n
}

// cli runs the command with the node's address and token appended.
func cli(t *testing.T, n *node.Node, token string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--addr", n.URL())
	if token != "" {
		args = append(args, "--token", token)
	}
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCatalogCommands(t *testing.T) {
	n := startCatalogNode(t)
	admin := n.AdminToken()
	steps := []struct {
		name    string
		token   string
		args    []string
		code    int
		want    []string // substrings of stdout (code 0) or stderr
		notWant string
	}{
		{"anonymous write", "", []string{"catalog", "courses", "create", "--set", "id=c1"}, 1,
			[]string{"classmesh catalog: 401 Unauthorized", "--token"}, ""},
		{"create course", admin, []string{"catalog", "courses", "create", "--set", "id=c1", "--set", "title=Physics", "--set", "visibility=private"}, 0,
			[]string{"created course c1 (revision "}, ""},
		{"duplicate create", admin, []string{"catalog", "courses", "create", "--set", "id=c1", "--set", "title=Again", "--set", "visibility=public"}, 1,
			[]string{"classmesh catalog: 409 Conflict: "}, ""},
		{"list", admin, []string{"catalog", "courses", "list"}, 0,
			[]string{"ID", "TITLE", "VISIBILITY", "c1", "Physics", "private"}, ""},
		{"list json", admin, []string{"catalog", "courses", "list", "--json"}, 0, []string{`"items"`, `"id": "c1"`}, ""},
		{"update reads the revision", admin, []string{"catalog", "courses", "update", "c1", "--set", "title=Physics I"}, 0,
			[]string{"updated course c1"}, ""},
		{"update stale if-match", admin, []string{"catalog", "courses", "update", "c1", "--set", "title=Lost", "--if-match", "1"}, 1,
			[]string{"classmesh catalog: 409 Conflict: "}, ""},
		{"get", admin, []string{"catalog", "courses", "get", "c1"}, 0, []string{`"title": "Physics I"`}, ""},
		{"history", admin, []string{"catalog", "courses", "history", "c1"}, 0,
			[]string{"REVISION", "UPDATED", "Physics I", "Physics"}, "Lost"},
		{"module", admin, []string{"catalog", "modules", "create", "--set", "id=m1", "--set", "course_id=c1", "--set", "title=Week 1"}, 0,
			[]string{"created module m1"}, ""},
		{"lesson", admin, []string{"catalog", "lessons", "create", "--set", "id=l1", "--set", "module_id=m1", "--set", "title=Intro", "--set", "asset_id=demo"}, 0,
			[]string{"created lesson l1"}, ""},
		{"invalid lesson", admin, []string{"catalog", "lessons", "create", "--set", "id=l2", "--set", "module_id=m1", "--set", "title=Ghost", "--set", "asset_id=nope"}, 1,
			[]string{"classmesh catalog: 422 Unprocessable Entity: "}, ""},
		{"lessons list", admin, []string{"catalog", "lessons", "list"}, 0, []string{"MODULE", "ASSET", "l1", "m1", "demo"}, ""},
		{"unknown kind", admin, []string{"catalog", "widgets", "list"}, 2, []string{`unknown kind "widgets"`}, ""},
		{"missing id", admin, []string{"catalog", "courses", "get"}, 2, []string{"wrong number of arguments"}, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errOut := cli(t, n, s.token, s.args...)
			got := errOut
			if s.code == 0 {
				got = out
			}
			if code != s.code {
				t.Fatalf("code %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, s.code, out, errOut)
			}
			for _, w := range s.want {
				if !strings.Contains(got, w) {
					t.Fatalf("output lacks %q:\n%s", w, got)
				}
			}
			if s.notWant != "" && strings.Contains(got, s.notWant) {
				t.Fatalf("output has %q:\n%s", s.notWant, got)
			}
		})
	}
	t.Run("update with if-match and file", func(t *testing.T) {
		rec, err := n.Catalog().Course("c1")
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "c1.json")
		if err := os.WriteFile(f, []byte(`{"id":"c1","title":"From file","visibility":"private","modules":["m1"]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := cli(t, n, admin, "catalog", "courses", "update", "c1", "--file", f,
			"--set", "description=Mechanics", "--if-match", strconv.FormatUint(rec.Revision, 10))
		if code != 0 || !strings.Contains(out, "updated course c1") {
			t.Fatalf("code %d: %s%s", code, out, errOut)
		}
		got, _ := n.Catalog().Course("c1")
		if got.Title != "From file" || got.Description != "Mechanics" || got.Revision <= rec.Revision {
			t.Fatalf("course after update: %+v", got)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if code, out, errOut := cli(t, n, admin, "catalog", "lessons", "delete", "l1"); code != 0 || out != "deleted lesson l1\n" {
			t.Fatalf("code %d: %q %s", code, out, errOut)
		}
		if code, _, errOut := cli(t, n, admin, "catalog", "lessons", "get", "l1"); code != 1 || !strings.Contains(errOut, "404") {
			t.Fatalf("get after delete: %d %s", code, errOut)
		}
	})
}

func TestTokenCommands(t *testing.T) {
	n := startCatalogNode(t)
	admin := n.AdminToken()
	setup := [][]string{
		{"catalog", "courses", "create", "--set", "id=c1", "--set", "title=Physics", "--set", "visibility=private"},
		{"catalog", "modules", "create", "--set", "id=m1", "--set", "course_id=c1", "--set", "title=Week 1"},
		{"catalog", "lessons", "create", "--set", "id=l1", "--set", "module_id=m1", "--set", "title=Intro", "--set", "asset_id=demo"},
	}
	for _, args := range setup {
		if code, out, errOut := cli(t, n, admin, args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errOut)
		}
	}
	if code, _, errOut := cli(t, n, admin, "token", "sign", "--asset", "demo"); code != 1 || !strings.Contains(errOut, "classmesh token: 409 Conflict: no signing key") {
		t.Fatalf("sign without a key: %d %s", code, errOut)
	}
	if code, out, errOut := cli(t, n, admin, "catalog", "keys", "create", "--set", "kid=k1", "--set", "secret=0123456789abcdef0123456789abcdef",
		"--set", "not_before=2020-01-01T00:00:00Z", "--set", "not_after=2100-01-01T00:00:00Z"); code != 0 || !strings.Contains(out, "created key k1") {
		t.Fatalf("key: %d %s%s", code, out, errOut)
	}

	code, out, errOut := cli(t, n, admin, "token", "create", "--role", "instructor", "--course", "c1", "--id", "t1")
	if code != 0 || !strings.HasPrefix(out, "id: t1\ntoken: ") {
		t.Fatalf("token create: %d %s%s", code, out, errOut)
	}
	instructor := strings.TrimPrefix(strings.Split(out, "\n")[1], "token: ")
	if code, out, _ := cli(t, n, admin, "catalog", "tokens", "list"); code != 0 || !strings.Contains(out, "instructor") || strings.Contains(out, instructor) {
		t.Fatalf("tokens list: %d %s", code, out)
	}

	if r := httpGet(t, n.URL()+"/v/demo/master.m3u8"); r != http.StatusForbidden {
		t.Fatalf("bare URL of a private course's asset: %d", r)
	}
	code, out, errOut = cli(t, n, instructor, "token", "sign", "--asset", "demo", "--ttl", "10m")
	url := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(url, n.URL()+"/t/") {
		t.Fatalf("token sign: %d %s%s", code, out, errOut)
	}
	if r := httpGet(t, url); r != http.StatusOK {
		t.Fatalf("signed URL %s: %d", url, r)
	}
	if code, out, _ := cli(t, n, admin, "token", "sign", "--course", "c1"); code != 0 || strings.Contains(out, "/") || len(strings.TrimSpace(out)) < 20 {
		t.Fatalf("course token: %d %q", code, out)
	}

	bad := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "sign"}, 2, "exactly one of --asset or --course"},
		{[]string{"token", "create", "--role", "root"}, 2, "--role must be admin or instructor"},
		{[]string{"token", "sign", "--asset", "demo", "--subnet", "nope"}, 1, "422 Unprocessable Entity: subnet"},
	}
	for _, b := range bad {
		t.Run(strings.Join(b.args, " "), func(t *testing.T) {
			if code, _, errOut := cli(t, n, admin, b.args...); code != b.code || !strings.Contains(errOut, b.want) {
				t.Fatalf("code %d (want %d): %s", code, b.code, errOut)
			}
		})
	}
}

func TestCatalogUnreachable(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"catalog", "courses", "list", "--addr", "http://127.0.0.1:1"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "classmesh catalog: cannot reach the node at http://127.0.0.1:1") {
		t.Fatalf("code %d: %s", code, errOut.String())
	}
}

// TestCatalogKindsHaveColumns: every collection of the API has a table.
func TestCatalogKindsHaveColumns(t *testing.T) {
	for _, p := range client.Paths() {
		if len(catalogKinds[p]) == 0 {
			t.Errorf("catalog kind %q has no columns", p)
		}
	}
	if len(catalogKinds) != len(client.Paths()) {
		t.Errorf("catalogKinds has %d kinds, the API %d", len(catalogKinds), len(client.Paths()))
	}
}

func TestBuildRecord(t *testing.T) {
	tests := []struct {
		sets []string
		key  string
		want any
	}{
		{[]string{"title=Physics"}, "title", "Physics"},
		{[]string{"duration=12.5"}, "duration", 12.5},
		{[]string{"modules=[\"a\"]"}, "modules", []any{"a"}},
		{[]string{"title=a=b"}, "title", "a=b"},
		{[]string{"title="}, "title", ""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.sets, " "), func(t *testing.T) {
			rec, err := buildRecord(map[string]any{"id": "x"}, "", tc.sets)
			if err != nil || rec["id"] != "x" || !equalJSON(rec[tc.key], tc.want) {
				t.Fatalf("%v %v", rec, err)
			}
		})
	}
	if _, err := buildRecord(nil, "", []string{"novalue"}); err == nil {
		t.Fatal("--set without = accepted")
	}
}

func equalJSON(a, b any) bool {
	return cell(a, false) == cell(b, false)
}

func httpGet(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
