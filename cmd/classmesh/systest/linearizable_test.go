package systest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/classmesh/classmesh/control/api"
)

// linNode is a classmesh process that can be killed and restarted with the
// same ports and data directory.
type linNode struct {
	name, secret, bin string
	http, admin       string
	gossip            string
	quic, data        string
	extra             []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
	log    bytes.Buffer
	up     bool
}

func newLinNode(t *testing.T, bin, name, secret string, extra ...string) *linNode {
	return &linNode{
		name: name, secret: secret, bin: bin,
		http:   fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		admin:  fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		quic:   fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		data:   t.TempDir(), extra: extra,
	}
}

func (n *linNode) url() string { return "http://" + n.http }

// adminURL is the admin listener (raft status).
func (n *linNode) adminURL() string { return "http://" + n.admin }

func (n *linNode) isUp() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.up
}

func (n *linNode) output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// start runs `classmesh serve` and waits for it to print its URL.
func (n *linNode) start(t *testing.T, extra ...string) {
	t.Helper()
	args := append([]string{"serve", "--node-id", n.name, "--http", n.http, "--admin-http", n.admin, "--gossip", n.gossip,
		"--quic", n.quic, "--data", n.data, "--cluster-secret", n.secret,
		"--rtmp", "127.0.0.1:0", "--gossip-profile", "local", "--rescan", "-1s", "--peer-timeout", "1s",
		"--segment-target", "2s", "--log-level", "info"}, n.extra...)
	args = append(args, extra...)
	cmd := exec.Command(n.bin, args...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.log.Write(b)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	ready := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "classmesh is serving at ") {
				ready <- struct{}{}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { exited <- cmd.Wait() }()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	select {
	case <-ready:
	case err := <-exited:
		exited <- err
		t.Fatalf("%s exited: %v\n%s", n.name, err, n.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start\n%s", n.name, n.output())
	}
	n.mu.Lock()
	n.up = true
	n.mu.Unlock()
}

// kill sends SIGKILL and waits for the process to exit.
func (n *linNode) kill() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.up = false
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := <-exited
	exited <- err
}

func linRaftStatus(url string) (api.RaftStatus, bool) {
	var st api.RaftStatus
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/api/v1/raft/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&st) == nil
}

// linLeader returns the live node every live node names as leader.
func linLeader(nodes []*linNode) *linNode {
	var leader string
	for _, n := range nodes {
		if !n.isUp() {
			continue
		}
		st, ok := linRaftStatus(n.adminURL())
		if !ok || st.LeaderID == "" || leader != "" && st.LeaderID != leader {
			return nil
		}
		leader = st.LeaderID
	}
	for _, n := range nodes {
		if n.name == leader && n.isUp() {
			return n
		}
	}
	return nil
}

// regInput is one operation on the register named Key.
type regInput struct {
	Key   string
	Write bool
	Value string
}

// regModel is a set of registers, one per key, partitioned by key.
func regModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range history {
				k := op.Input.(regInput).Key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() any { return "init" },
		Step: func(state, input, output any) (bool, any) {
			in := input.(regInput)
			if in.Write {
				return true, in.Value
			}
			return output.(string) == state.(string), state
		},
		DescribeOperation: func(input, output any) string {
			in := input.(regInput)
			if in.Write {
				return fmt.Sprintf("put(%s, %s)", in.Key, in.Value)
			}
			return fmt.Sprintf("get(%s) -> %v", in.Key, output)
		},
	}
}

// outcome classifies an HTTP exchange: ok, definite failure or unknown.
type outcome int

const (
	outOK outcome = iota
	outFailed
	outUnknown
)

type linClient struct {
	http  *http.Client
	token string
}

func (c *linClient) do(method, url, ifMatch string, body any) (outcome, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return outFailed, nil
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return outUnknown, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	switch {
	case err != nil || resp.StatusCode >= 500:
		return outUnknown, b
	case resp.StatusCode >= 400:
		return outFailed, b
	}
	return outOK, b
}

func (c *linClient) read(url, key string) (outcome, string) {
	o, b := c.do(http.MethodGet, url+"/api/v1/courses/"+key+"?consistency=linearizable", "", nil)
	var rec struct{ Title string }
	if o == outOK && json.Unmarshal(b, &rec) != nil {
		return outUnknown, ""
	}
	return o, rec.Title
}

func (c *linClient) write(url, key, value string) outcome {
	o, _ := c.do(http.MethodPut, url+"/api/v1/courses/"+key, "*", map[string]any{
		"id": key, "title": value, "visibility": "private"})
	return o
}

// history collects operations from concurrent clients.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return time.Since(h.start).Nanoseconds() }

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
}

func runLinClient(id int, c *linClient, nodes []*linNode, keys []string, h *history, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(id), 42))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		n := nodes[rng.IntN(len(nodes))]
		if !n.isUp() {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		key := keys[rng.IntN(len(keys))]
		call := h.now()
		if rng.IntN(2) == 0 {
			in := regInput{Key: key, Write: true, Value: fmt.Sprintf("c%d-%d", id, i)}
			switch c.write(n.url(), key, in.Value) {
			case outOK:
				h.add(porcupine.Operation{ClientId: id, Input: in, Call: call, Output: "", Return: h.now()})
			case outUnknown:
				// May or may not take effect, at any time from now on.
				h.add(porcupine.Operation{ClientId: id, Input: in, Call: call, Output: "", Return: math.MaxInt64})
			}
			continue
		}
		if o, v := c.read(n.url(), key); o == outOK {
			h.add(porcupine.Operation{ClientId: id, Input: regInput{Key: key}, Call: call, Output: v, Return: h.now()})
		}
	}
}

// lostWrite checks that the final value of key comes from a write that
// could be the last one: no acknowledged write started after it returned.
func lostWrite(ops []porcupine.Operation, key, final string) error {
	var from *porcupine.Operation
	for i := range ops {
		in := ops[i].Input.(regInput)
		if in.Key == key && in.Write && in.Value == final {
			from = &ops[i]
		}
	}
	if from == nil && final != "init" {
		return fmt.Errorf("%s ends as %q, which no client wrote", key, final)
	}
	for _, op := range ops {
		in := op.Input.(regInput)
		if in.Key != key || !in.Write || op.Return == math.MaxInt64 {
			continue
		}
		if from == nil || op.Call > from.Return {
			return fmt.Errorf("%s ends as %q, losing the acknowledged write %q", key, final, in.Value)
		}
	}
	return nil
}

// TestLinearizabilityCheckers checks that the model and lostWrite reject
// bad histories, so that the process test can fail.
func TestLinearizabilityCheckers(t *testing.T) {
	w := func(c int, key, v string, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: c, Input: regInput{Key: key, Write: true, Value: v}, Call: call, Output: "", Return: ret}
	}
	r := func(c int, key, v string, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: c, Input: regInput{Key: key}, Call: call, Output: v, Return: ret}
	}
	tests := []struct {
		name  string
		ops   []porcupine.Operation
		want  porcupine.CheckResult
		final string // of key a; "" skips lostWrite
		lost  bool
	}{
		{"sequential", []porcupine.Operation{w(0, "a", "x", 0, 10), r(1, "a", "x", 20, 30)}, porcupine.Ok, "x", false},
		{"stale read", []porcupine.Operation{w(0, "a", "x", 0, 10), r(1, "a", "init", 20, 30)}, porcupine.Illegal, "", false},
		{"concurrent read", []porcupine.Operation{w(0, "a", "x", 0, 10), r(1, "a", "init", 5, 30)}, porcupine.Ok, "", false},
		{"keys independent", []porcupine.Operation{w(0, "a", "x", 0, 10), r(1, "b", "init", 20, 30)}, porcupine.Ok, "x", false},
		{"indefinite write seen", []porcupine.Operation{w(0, "a", "x", 0, math.MaxInt64), r(1, "a", "x", 20, 30)}, porcupine.Ok, "x", false},
		{"indefinite write unseen", []porcupine.Operation{w(0, "a", "x", 0, math.MaxInt64), r(1, "a", "init", 20, 30)}, porcupine.Ok, "init", false},
		{"read flips back", []porcupine.Operation{w(0, "a", "x", 0, math.MaxInt64), r(1, "a", "x", 20, 30), r(1, "a", "init", 40, 50)}, porcupine.Illegal, "", false},
		{"lost ack", []porcupine.Operation{w(0, "a", "x", 0, 10), w(1, "a", "y", 20, 30)}, porcupine.Ok, "x", true},
		{"lost to init", []porcupine.Operation{w(0, "a", "x", 0, 10)}, porcupine.Ok, "init", true},
		{"unwritten value", []porcupine.Operation{w(0, "a", "x", 0, 10)}, porcupine.Ok, "z", true},
		{"concurrent writes", []porcupine.Operation{w(0, "a", "x", 0, 10), w(1, "a", "y", 5, 30)}, porcupine.Ok, "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := porcupine.CheckOperationsTimeout(regModel(), tt.ops, 5*time.Second); got != tt.want {
				t.Errorf("porcupine: %s, want %s", got, tt.want)
			}
			if tt.final == "" {
				return
			}
			if err := lostWrite(tt.ops, "a", tt.final); (err != nil) != tt.lost {
				t.Errorf("lostWrite: %v, want lost=%v", err, tt.lost)
			}
		})
	}
}

// TestLinearizableCatalogUnderLeaderKill runs a 3- and a 5-voter catalog,
// kills -9 the raft leader three times while four clients write and
// linearizably read three registers (course titles), and checks the history
// with porcupine and that no acknowledged write is lost.
func TestLinearizableCatalogUnderLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinary(t)
	for _, voters := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d_voters", voters), func(t *testing.T) { testLinearizable(t, bin, voters) })
	}
}

func testLinearizable(t *testing.T, bin string, voters int) {
	media, _ := filepath.Abs("../../../testdata/media")
	const secret = "linearizable-test-secret-0123456789"
	nodes := []*linNode{newLinNode(t, bin, "node1", secret, "--media", media)}
	for i := 2; i <= voters; i++ {
		nodes = append(nodes, newLinNode(t, bin, fmt.Sprintf("node%d", i), secret))
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.kill()
			if t.Failed() {
				t.Logf("--- %s log:\n%s", n.name, n.output())
			}
		}
	})
	nodes[0].start(t)
	for _, n := range nodes[1:] {
		n.start(t, "--join", nodes[0].gossip)
	}
	tokenBytes, err := os.ReadFile(filepath.Join(nodes[0].data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, fmt.Sprintf("%d voters and an agreed leader", voters), func() bool {
		for _, n := range nodes {
			if st, ok := linRaftStatus(n.adminURL()); !ok || len(st.Voters) != voters {
				return false
			}
		}
		return linLeader(nodes) != nil
	})

	c := &linClient{http: &http.Client{Timeout: 3 * time.Second}, token: strings.TrimSpace(string(tokenBytes))}
	keys := []string{"r0", "r1", "r2"}
	for _, k := range keys {
		o, b := c.do(http.MethodPost, linLeader(nodes).url()+"/api/v1/courses", "",
			map[string]any{"id": k, "title": "init", "visibility": "private"})
		if o != outOK {
			t.Fatalf("create %s: %s", k, b)
		}
	}

	h := &history{start: time.Now()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for id := range 4 {
		wg.Go(func() { runLinClient(id, c, nodes, keys, h, stop) })
	}
	kills := 0
	for range 3 {
		time.Sleep(2 * time.Second)
		var leader *linNode
		for range 100 {
			if leader = linLeader(nodes); leader != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if leader == nil {
			continue
		}
		leader.kill()
		kills++
		time.Sleep(2 * time.Second)
		var join string
		for _, n := range nodes {
			if n != leader {
				join = n.gossip
			}
		}
		leader.start(t, "--join", join)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if kills < 2 {
		t.Fatalf("only %d leader kills happened", kills)
	}

	// Final linearizable reads, once the cluster has a leader again.
	waitUntil(t, "an agreed leader after the kills", func() bool { return linLeader(nodes) != nil })
	finals := map[string]string{}
	for _, k := range keys {
		waitUntil(t, "a final read of "+k, func() bool {
			call := h.now()
			o, v := c.read(nodes[0].url(), k)
			if o != outOK {
				return false
			}
			h.add(porcupine.Operation{ClientId: 99, Input: regInput{Key: k}, Call: call, Output: v, Return: h.now()})
			finals[k] = v
			return true
		})
	}

	writes, reads, unknown := 0, 0, 0
	for _, op := range h.ops {
		switch {
		case op.Return == math.MaxInt64:
			unknown++
		case op.Input.(regInput).Write:
			writes++
		default:
			reads++
		}
	}
	t.Logf("%d leader kills; %d acknowledged writes, %d indefinite writes, %d reads", kills, writes, unknown, reads)
	if writes == 0 || reads == 0 {
		t.Fatalf("the workload did too little: %d writes, %d reads", writes, reads)
	}
	res, _ := porcupine.CheckOperationsVerbose(regModel(), h.ops, 30*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("porcupine: the history is %s", res)
	}
	for _, k := range keys {
		if err := lostWrite(h.ops, k, finals[k]); err != nil {
			t.Error(err)
		}
	}
}
