package systest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control/api"
)

// TestProcessRogueMember reproduces finding 1 of issue 11 with real
// processes: a process that knows only the gossip key (no cluster secret,
// no cluster certificate) joins gossip advertising the control, edge and
// origin roles. On the old code it became a raft voter within seconds and
// the one-node catalog lost its leader for good, and segment fills were
// routed to it. It must stay "unverified": no raft membership, no ring
// ownership; catalog writes keep succeeding while it is there and after it
// leaves; the node's probes of it and a client without a certificate are
// refused handshakes, counted by reason.
func TestProcessRogueMember(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinary(t)
	media, _ := filepath.Abs("../../../testdata/media")
	const secret = "rogue-test-secret-0123456789"
	data := t.TempDir()
	node := startProc(t, bin, "origin", secret, "--media", media, "--data", data)
	var token string
	waitUntil(t, "the admin token", func() bool {
		b, err := os.ReadFile(filepath.Join(data, "admin-token"))
		token = strings.TrimSpace(string(b))
		return err == nil && token != ""
	})
	writes := 0
	write := func(when string) {
		t.Helper()
		writes++
		body, _ := json.Marshal(map[string]string{"id": "c" + strconv.Itoa(writes), "title": "Course", "visibility": "public"})
		req, _ := http.NewRequest(http.MethodPost, node.url+"/api/v1/courses", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		c := http.Client{Timeout: 10 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("catalog write %s: %v", when, err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Errorf("catalog write %s: %d %s", when, resp.StatusCode, b)
		}
	}
	write("before the rogue")

	// The rogue: the stolen gossip key in its keyring file, and another
	// secret, so its certificate is not the cluster's.
	rdata := t.TempDir()
	stolen := base64.RawURLEncoding.EncodeToString(cluster.DeriveGossipKey(secret))
	if err := os.WriteFile(filepath.Join(rdata, "gossip-keys"), []byte(stolen+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rogue, err := cluster.New(cluster.Config{
		NodeID: "rogue", DataDir: rdata, GossipAddr: "127.0.0.1:0", QUICAddr: "127.0.0.1:0",
		Join: []string{node.gossip}, Secret: "not-the-cluster-secret-0123456789",
		Roles:    []cluster.Role{cluster.RoleEdge, cluster.RoleOrigin, cluster.RoleControl},
		HTTPAddr: "http://127.0.0.1:1", GossipProfile: cluster.ProfileLocal,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	if err := rogue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the node to list the rogue", func() bool {
		_, ok := memberStates(node.admin)["rogue"]
		return ok
	})

	// Longer than the reconciler's join delay (3 s) plus its tick: the
	// old code had made the rogue a voter by then.
	var failures []string
	fail := func(s string) {
		if !slices.Contains(failures, s) {
			failures = append(failures, s)
			t.Error(s)
		}
	}
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); {
		if s := memberStates(node.admin)["rogue"]; s != "unverified" {
			fail(fmt.Sprintf("the rogue's state is %q, want unverified", s))
		}
		var st api.RaftStatus
		if getJSON(node.admin+"/api/v1/raft/status", &st) == nil &&
			(slices.Contains(st.Voters, "rogue") || slices.Contains(st.Nonvoters, "rogue")) {
			fail(fmt.Sprintf("the rogue is in raft: voters %v, non-voters %v", st.Voters, st.Nonvoters))
		}
		time.Sleep(250 * time.Millisecond)
	}
	write("while the rogue is there")

	// Segment fills: this node owns every segment; none is asked of the
	// rogue.
	peerFills := func() float64 { return metricSum(t, node.admin, `classmesh_peer_fill_requests_total{role="client"`) }
	before := peerFills()
	fetchAll(t, node.url, segmentPaths(t, node.url, "360p"), map[string]int{})
	if after := peerFills(); after != before {
		t.Errorf("%v segment fills were sent to another member (the rogue is the only one)", after-before)
	}

	// Refused handshakes are counted by reason: the node's probe of the
	// rogue (foreign CA) and a client with no certificate at all.
	if v := metric(t, node.admin, `classmesh_quic_handshakes_refused_total{reason="unknown_authority"}`); v < 1 {
		t.Errorf("refused{unknown_authority} = %v, want >= 1 (the node's probe of the rogue)", v)
	}
	quicAddr := selfQUIC(t, node.admin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if conn, err := quic.DialAddr(ctx, quicAddr, &tls.Config{InsecureSkipVerify: true,
		NextProtos: []string{cluster.KeysALPN}, MinVersion: tls.VersionTLS13}, nil); err == nil {
		if s, err := conn.OpenStreamSync(ctx); err == nil {
			s.Write([]byte("x"))
			s.Close()
			io.ReadAll(s)
		}
		conn.CloseWithError(0, "")
	}
	cancel()
	waitUntil(t, "refused{no_certificate}", func() bool {
		return metric(t, node.admin, `classmesh_quic_handshakes_refused_total{reason="no_certificate"}`) >= 1
	})
	if !strings.Contains(node.output(), "has not proved its name") {
		t.Error("the node did not log the unverified member")
	}

	// The rogue leaves; writes go on.
	rogue.Leave(2 * time.Second)
	write("after the rogue left")
	write("after the rogue left, again")
}

// metricSum adds every sample of /metrics whose line starts with prefix.
func metricSum(t *testing.T, url, prefix string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// selfQUIC returns the node's own QUIC address from the members list.
func selfQUIC(t *testing.T, url string) string {
	t.Helper()
	var ms []struct {
		QUICAddr string `json:"quic_addr"`
		Self     bool   `json:"self"`
	}
	if err := getJSON(url+"/api/v1/cluster/members", &ms); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Self {
			return m.QUICAddr
		}
	}
	t.Fatal("no self in members")
	return ""
}
