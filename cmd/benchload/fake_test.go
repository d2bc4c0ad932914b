package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeCluster imitates two classmesh nodes closely enough for benchload:
// segment n is owned by node n%2; a node asked for a segment it does not
// hold fills it from the owner ("peer") or, as the owner, from the origin,
// whose reads it appends to originLog. Bodies are body.
type fakeCluster struct {
	mu        sync.Mutex
	nodes     [2]*fakeNode
	body      []byte
	originLog string
}

type fakeNode struct {
	srv       *httptest.Server
	warm      map[string]bool
	fills     map[string]int
	requests  int
	fillBytes int
	fillSecs  float64
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	c := &fakeCluster{body: []byte(strings.Repeat("x", 4096)), originLog: t.TempDir() + "/origin.log"}
	for i := range c.nodes {
		n := &fakeNode{warm: map[string]bool{}, fills: map[string]int{}}
		n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.serve(i, w, r) }))
		t.Cleanup(n.srv.Close)
		c.nodes[i] = n
	}
	return c
}

func (c *fakeCluster) serve(i int, w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[i]
	if r.URL.Path == "/metrics" {
		fmt.Fprintf(w, "# TYPE classmesh_cache_fills_total counter\n")
		for src, v := range n.fills {
			fmt.Fprintf(w, "classmesh_cache_fills_total{source=%q} %d\n", src, v)
		}
		fmt.Fprintf(w, "classmesh_http_requests_total{code=\"200\",route=\"GET /v/{asset}/{rendition}/{file}\"} %d\n", n.requests)
		fmt.Fprintf(w, "classmesh_peer_fill_bytes_total{role=\"client\"} %d\n", n.fillBytes)
		fmt.Fprintf(w, "classmesh_peer_fill_seconds_sum{result=\"ok\"} %g\n", n.fillSecs)
		return
	}
	num, err := strconv.Atoi(strings.TrimSuffix(r.URL.Path[strings.LastIndex(r.URL.Path, "-")+1:], ".m4s"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	n.requests++
	c.fill(i, num%2, r.URL.Path)
	w.Write(c.body)
}

// fill makes node i warm for path, owned by node owner.
func (c *fakeCluster) fill(i, owner int, path string) {
	n := c.nodes[i]
	if n.warm[path] {
		return
	}
	n.warm[path] = true
	if i != owner {
		n.fills["peer"]++
		n.fillBytes += len(c.body)
		n.fillSecs += 0.001
		c.fill(owner, owner, path)
		return
	}
	n.fills["origin"]++
	f, err := os.OpenFile(c.originLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		fmt.Fprintf(f, "GET %s\n", path)
		f.Close()
	}
}

func (c *fakeCluster) url(i int) string { return c.nodes[i].srv.URL }
