package systest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control/api"
)

// These tests run real classmesh processes on loopback.

// buildBinary builds cmd/classmesh into the test's temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "classmesh")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/classmesh/classmesh/cmd/classmesh").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a port free for both TCP and UDP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

type proc struct {
	name   string
	cmd    *exec.Cmd
	url    string
	admin  string // admin listener: members, raft, metrics
	gossip string
	mu     sync.Mutex
	log    bytes.Buffer
	exited chan error
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startProc starts `classmesh serve` and waits for its URL.
func startProc(t *testing.T, bin, name, secret string, extra ...string) *proc {
	t.Helper()
	gossip := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"serve", "--node-id", name, "--http", "127.0.0.1:0", "--admin-http", "127.0.0.1:0", "--gossip", gossip,
		"--quic", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data", t.TempDir(), "--cluster-secret", secret,
		"--rtmp", "127.0.0.1:0", "--gossip-profile", "local", "--rescan", "-1s", "--peer-timeout", "1s", "--segment-target", "2s",
		"--log-level", "info"}, extra...)
	p := &proc{name: name, gossip: gossip, cmd: exec.Command(bin, args...), exited: make(chan error, 1)}
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.log.Write(b)
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls, admins := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "classmesh is serving at "); ok {
				urls <- strings.TrimSuffix(u, "/")
			}
			if u, ok := strings.CutPrefix(sc.Text(), "classmesh admin listener at "); ok {
				admins <- strings.TrimSuffix(u, "/")
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("--- %s log:\n%s", name, p.output())
		}
	})
	select {
	case p.url = <-urls:
	case err := <-p.exited:
		t.Fatalf("%s exited: %v\n%s", name, err, p.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start\n%s", name, p.output())
	}
	select {
	case p.admin = <-admins:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s printed no admin listener\n%s", name, p.output())
	}
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func memberStates(url string) map[string]string {
	var ms []api.Member
	if getJSON(url+"/api/v1/cluster/members", &ms) != nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.ID] = m.State
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func metric(t *testing.T, url, series string) float64 {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// fetchAll requests every URL from node and fails on anything but a
// complete 200.
func fetchAll(t *testing.T, node string, paths []string, sizes map[string]int) {
	t.Helper()
	for _, p := range paths {
		resp, err := http.Get(node + p)
		if err != nil {
			t.Fatalf("%s%s: %v", node, p, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s%s: status %d, %v", node, p, resp.StatusCode, err)
		}
		if want, ok := sizes[p]; ok && want != len(body) {
			t.Fatalf("%s%s: %d bytes, want %d", node, p, len(body), want)
		}
		sizes[p] = len(body)
	}
}

func segmentPaths(t *testing.T, node, rendition string) []string {
	resp, err := http.Get(node + "/v/demo/" + rendition + "/media.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "seg-") {
			out = append(out, "/v/demo/"+rendition+"/"+l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no segments in %s's %s playlist", node, rendition)
	}
	return out
}

// TestProcessCluster runs four classmesh processes: an origin with the demo
// media and three edges with none. It checks `classmesh members`, serving
// through the cluster, kill -9 of an edge under load (every request to the
// survivors succeeds, membership converges, keys move), SIGTERM (graceful
// leave, exit 0) and that a node with the wrong secret cannot join.
func TestProcessCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinary(t)
	media, _ := filepath.Abs("../../../testdata/media")
	const secret = "process-test-secret-0123456789"
	origin := startProc(t, bin, "origin", secret, "--media", media)
	edges := []*proc{}
	for i := 1; i <= 3; i++ {
		edges = append(edges, startProc(t, bin, fmt.Sprintf("edge%d", i), secret, "--join", origin.gossip, "--roles", "edge"))
	}
	all := append([]*proc{origin}, edges...)
	waitUntil(t, "4 alive members and the demo on every node", func() bool {
		for _, p := range all {
			st := memberStates(p.admin)
			alive := 0
			for _, s := range st {
				if s == "alive" {
					alive++
				}
			}
			var a struct{ Status string }
			if alive != 4 || getJSON(p.url+"/api/v1/assets/demo", &a) != nil || a.Status != "ready" {
				return false
			}
		}
		return true
	})

	// classmesh members, as an operator runs it.
	out, err := exec.Command(bin, "members", "--addr", edges[0].admin).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "origin") || !strings.Contains(string(out), "edge3") || !strings.Contains(string(out), "alive") {
		t.Fatalf("classmesh members: %v\n%s", err, out)
	}
	t.Logf("classmesh members:\n%s", out)

	// kill -9 an edge while the survivors serve every segment.
	sizes := map[string]int{}
	paths := segmentPaths(t, origin.url, "720p")
	survivors := []*proc{origin, edges[0], edges[1]}
	var loadErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			if r := recover(); r != nil {
				loadErr = fmt.Errorf("%v", r)
			}
		}()
		for _, p := range survivors {
			for _, path := range paths {
				resp, err := http.Get(p.url + path)
				if err != nil {
					loadErr = err
					return
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || n == 0 {
					loadErr = fmt.Errorf("%s%s during kill: status %d, %d bytes, %v", p.name, path, resp.StatusCode, n, err)
					return
				}
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	edges[2].cmd.Process.Signal(syscall.SIGKILL)
	wg.Wait()
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	waitUntil(t, "the killed edge to be marked dead", func() bool {
		for _, p := range survivors {
			if s := memberStates(p.admin)["edge3"]; s == "alive" || s == "" && len(memberStates(p.admin)) > 3 {
				return false
			}
		}
		return true
	})
	// Keys moved: with membership converged, fresh segments go to live
	// owners only, so no peer fill fails.
	unavailable := `classmesh_peer_fill_requests_total{role="client",status="unavailable"}`
	before := metric(t, edges[0].admin, unavailable)
	fetchAll(t, edges[0].url, segmentPaths(t, edges[0].url, "360p"), sizes)
	if after := metric(t, edges[0].admin, unavailable); after != before {
		t.Errorf("after convergence %v peer fills still went to an unavailable owner", after-before)
	}

	// SIGTERM: graceful leave, exit 0, seen as "left".
	edges[1].cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-edges[1].exited:
		if err != nil {
			t.Errorf("edge2 after SIGTERM: %v\n%s", err, edges[1].output())
		}
		edges[1].exited <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("edge2 did not exit within 30 s of SIGTERM")
	}
	waitUntil(t, "edge2 to be seen as left", func() bool {
		st := memberStates(origin.admin)
		if st["edge2"] != "left" {
			t.Logf("members seen by the origin: %v", st)
			return false
		}
		return true
	})

	// A node with the wrong secret cannot join; the refusal is logged.
	intruder := startProc(t, bin, "intruder", "a-different-secret-0123456789", "--join", origin.gossip, "--roles", "edge")
	time.Sleep(3 * time.Second)
	if _, ok := memberStates(origin.admin)["intruder"]; ok {
		t.Fatal("a node with the wrong secret joined")
	}
	if st := memberStates(intruder.admin); len(st) != 1 {
		t.Fatalf("the intruder sees members %v", st)
	}
	if !strings.Contains(origin.output()+intruder.output(), "wrong cluster secret") {
		t.Errorf("no log line names the wrong secret:\n%s", origin.output())
	}
}
