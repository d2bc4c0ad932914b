package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
)

// liveCluster starts an ingest node (origin role, RTMP on loopback) and an
// edge that reaches live tracks only through the QUIC relay.
func liveCluster(t *testing.T, grace time.Duration) (ingest, edge *Node, admin string) {
	t.Helper()
	ingest = mustNewNode(t, Config{MediaDir: demoDir(t), ClusterSecret: testSecret, NodeID: "ingest",
		PeerTimeout: time.Second, LiveGrace: grace, P2P: "off"})
	edge = mustNewNode(t, Config{ClusterSecret: testSecret, NodeID: "edge1", PeerTimeout: time.Second,
		Join: []string{ingest.Cluster().Self().GossipAddr}, Roles: []cluster.Role{cluster.RoleEdge}, P2P: "off"})
	waitFor(t, "both nodes in the cluster and the catalog", func() bool {
		st, err := edge.Catalog().Stats()
		return err == nil && len(edge.Cluster().Members()) == 2 && len(st.Nonvoters) == 1 && ingest.AdminToken() != ""
	})
	if edge.RTMPAddr() != nil {
		t.Fatal("an edge-only node accepts RTMP")
	}
	return ingest, edge, ingest.AdminToken()
}

// createSession creates a course and a live session through the edge (the
// write is forwarded to the leader) and returns the stream key.
func createSession(t *testing.T, n *Node, admin, id string) string {
	t.Helper()
	if r := do(t, "POST", n.URL()+"/api/v1/courses", admin, `{"id":"live-course","title":"Live","visibility":"public"}`); r.code != 201 && r.code != 409 {
		t.Fatalf("course: %d %s", r.code, r.body)
	}
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"id":%q,"course_id":"live-course","title":"Class","scheduled_start":%q,"scheduled_end":%q}`,
		id, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	r := do(t, "POST", n.URL()+"/api/v1/sessions", admin, body)
	var out struct {
		StreamKey string `json:"stream_key"`
	}
	if r.code != 201 || json.Unmarshal(r.body, &out) != nil || out.StreamKey == "" {
		t.Fatalf("session: %d %s", r.code, r.body)
	}
	return out.StreamKey
}

// publish starts ffmpeg publishing a test pattern with a burnt-in clock.
func publish(t *testing.T, ctx context.Context, n *Node, key string, seconds int) *exec.Cmd {
	t.Helper()
	bin := requireTool(t, "ffmpeg")
	url := fmt.Sprintf("rtmp://%s/live/%s", n.RTMPAddr(), key)
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "50",
		"-c:a", "aac", "-t", strconv.Itoa(seconds), "-f", "flv", url)
	cmd.Stderr = &strings.Builder{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

var extinfRE = regexp.MustCompile(`#EXTINF:([0-9.]+)`)

// TestLiveClassThroughTheRelay: ffmpeg publishes RTMP to the ingest node; an
// edge reached only through the QUIC relay serves LL-HLS; ffprobe reads the
// edge's playlist and a part; wrong keys and a second publisher are
// refused; the publisher reconnects within the grace window and the
// session continues; after the session ends through the API its single
// recording plays as VOD with the right duration.
func TestLiveClassThroughTheRelay(t *testing.T) {
	requireTool(t, "ffmpeg")
	ffprobeBin := requireTool(t, "ffprobe")
	ingest, edge, admin := liveCluster(t, 20*time.Second)
	key := createSession(t, edge, admin, "class1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	first := publish(t, ctx, ingest, key, 12)
	base := edge.URL() + "/live/class1"
	waitFor(t, "the edge to serve the live master playlist", func() bool {
		return get(t, base+"/master.m3u8").code == 200
	})
	if st, _ := edge.Catalog().Session("class1"); st == nil || st.State != "live" || st.IngestNode != "ingest" {
		t.Fatalf("catalog session = %+v", st)
	}

	t.Run("refusals", func(t *testing.T) {
		wrong := publish(t, ctx, ingest, "sk_wrong", 2)
		if err := wrong.Wait(); err == nil {
			t.Error("a wrong stream key was accepted")
		}
		second := publish(t, ctx, ingest, key, 2)
		if err := second.Wait(); err == nil {
			t.Error("a second publisher was accepted")
		}
	})

	// Players without LL-HLS read whole segments: wait for two.
	var pl response
	waitFor(t, "two complete live segments on the edge", func() bool {
		pl = get(t, base+"/video/media.m3u8")
		return strings.Count(string(pl.body), "#EXTINF") >= 2
	})
	for _, want := range []string{"#EXT-X-PART-INF:PART-TARGET=", "CAN-BLOCK-RELOAD=YES", "#EXT-X-PART:", "#EXT-X-PRELOAD-HINT", "#EXT-X-PROGRAM-DATE-TIME"} {
		if !strings.Contains(string(pl.body), want) {
			t.Fatalf("edge media playlist lacks %s:\n%s", want, pl.body)
		}
	}
	// The edge measures the relay's delay for every part it listed.
	if n := metricValue(t, edge, "classmesh_live_relay_delay_seconds_count"); n < 2 {
		t.Fatalf("classmesh_live_relay_delay_seconds_count on the edge = %v, want the parts relayed so far", n)
	}
	if n := metricValue(t, ingest, "classmesh_live_relay_delay_seconds_count"); n != 0 {
		t.Fatalf("the ingest node observed a relay delay for its own parts: %v", n)
	}
	// ffprobe reads the live playlist from the edge, and one part.
	if out, err := exec.CommandContext(ctx, ffprobeBin, "-v", "error", "-show_streams", "-of", "json", base+"/master.m3u8").CombinedOutput(); err != nil || !strings.Contains(string(out), `"h264"`) {
		t.Fatalf("ffprobe live master: %v\n%s", err, out)
	}
	partURI := regexp.MustCompile(`URI="(part-[0-9]+\.[0-9]+\.m4s)"`).FindSubmatch(pl.body)
	if partURI == nil {
		t.Fatalf("no part in:\n%s", pl.body)
	}
	dir := t.TempDir()
	init, part := get(t, base+"/video/init.mp4"), get(t, base+"/video/"+string(partURI[1]))
	if init.code != 200 || part.code != 200 {
		t.Fatalf("init %d, part %d", init.code, part.code)
	}
	probe := filepath.Join(dir, "part.mp4")
	if err := os.WriteFile(probe, append(init.body, part.body...), 0o644); err != nil {
		t.Fatal(err)
	}
	if pr := ffprobe(t, probe); len(pr.Streams) != 1 || pr.Streams[0].CodecName != "h264" || pr.Streams[0].NbReadFrames == "0" {
		t.Fatalf("ffprobe part: %+v", pr)
	}

	// A learner watches on the edge in headless Chromium (hls.js in
	// low-latency mode) while the publisher goes and comes back within the
	// grace window: playback goes on.
	played := make(chan error, 1)
	nodeBin := requireBrowser(t) // here: a t.Fatal in the goroutine below would hang the test
	go func() { played <- playLive(ctx, t, nodeBin, edge, "class1", 12) }()
	if err := first.Wait(); err != nil {
		t.Fatalf("first publish: %v %s", err, first.Stderr)
	}
	time.Sleep(time.Second)
	second := publish(t, ctx, ingest, key, 12)
	if err := second.Wait(); err != nil {
		t.Fatalf("reconnect publish: %v %s", err, second.Stderr)
	}
	if err := <-played; err != nil {
		t.Fatal(err)
	}
	pl = get(t, base+"/video/media.m3u8")
	if !strings.Contains(string(pl.body), "#EXT-X-DISCONTINUITY") {
		t.Fatalf("no discontinuity after the reconnect:\n%s", pl.body)
	}

	// End the class through the API: the recording becomes an asset.
	if r := do(t, "POST", edge.URL()+"/api/v1/sessions/class1/end", admin, ""); r.code != 200 {
		t.Fatalf("end: %d %s", r.code, r.body)
	}
	var asset string
	waitFor(t, "the session to point to its recording", func() bool {
		st, err := edge.Catalog().Session("class1")
		if err != nil || st.State != "ended" || st.RecordingAssetID == "" {
			return false
		}
		asset = st.RecordingAssetID
		return true
	})
	if r := do(t, "GET", edge.URL()+"/api/v1/sessions/class1", admin, ""); !strings.Contains(string(r.body), `"recording_asset": "`+asset+`"`) {
		t.Fatalf("GET session: %s", r.body)
	}
	waitFor(t, "the recording to play on the edge", func() bool {
		return get(t, edge.URL()+"/v/"+asset+"/master.m3u8").code == 200
	})
	entries, _ := os.ReadDir(filepath.Join(ingest.cfg.DataDir, recordingsDir))
	if len(entries) != 1 {
		t.Fatalf("%d recordings, want one", len(entries))
	}
	out, err := exec.CommandContext(ctx, ffprobeBin, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", edge.URL()+"/v/"+asset+"/master.m3u8").Output()
	if err != nil {
		t.Fatalf("ffprobe recording: %v", err)
	}
	dur, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	var sum float64
	for _, m := range extinfRE.FindAllSubmatch(get(t, ingest.URL()+"/v/"+asset+"/"+videoRendition(t, ingest, asset)+"/media.m3u8").body, -1) {
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		sum += f
	}
	// 12 s + 12 s published; allow for the encoder's start and the cut.
	if dur < 21 || dur > 25.5 || sum < 21 || sum > 25.5 {
		t.Fatalf("recording duration %.2f s (ffprobe), %.2f s (EXTINF), want about 24", dur, sum)
	}
}

func videoRendition(t *testing.T, n *Node, asset string) string {
	t.Helper()
	a, ok := n.Library().Asset(asset)
	if !ok {
		t.Fatalf("no asset %s", asset)
	}
	for _, r := range a.Renditions {
		if r.Kind.String() == "video" {
			return r.ID
		}
	}
	t.Fatalf("asset %s has no video", asset)
	return ""
}

// playLive plays a live session from n in headless Chromium for seconds.
// nodeBin is requireBrowser's answer, asked on the test's goroutine.
func playLive(ctx context.Context, t *testing.T, nodeBin string, n *Node, session string, seconds int) error {
	shot := filepath.Join(artifactsDir(t), "browser-live.png")
	cmd := exec.CommandContext(ctx, nodeBin, "test/play.mjs", "--url", n.URL()+"/watch/"+session+"?live=1&autoplay=1&muted=1&p2p=off",
		"--seconds", strconv.Itoa(seconds), "--screenshot", shot, "--allow-nonfatal")
	cmd.Dir = "../player"
	out, err := cmd.CombinedOutput()
	t.Logf("play.mjs (live): %s", out)
	if err != nil {
		return fmt.Errorf("live playback in Chromium: %v\n%s", err, out)
	}
	return nil
}

// TestLiveRelayTree: an edge with --relay-parent takes the live tracks
// through its parent, so the ingest node serves one subscriber per track
// however many edges sit below the parent.
func TestLiveRelayTree(t *testing.T) {
	requireTool(t, "ffmpeg")
	ingest, edge1, admin := liveCluster(t, 10*time.Second)
	edge2 := mustNewNode(t, Config{ClusterSecret: testSecret, NodeID: "edge2", PeerTimeout: time.Second,
		Join: []string{ingest.Cluster().Self().GossipAddr}, Roles: []cluster.Role{cluster.RoleEdge},
		P2P: "off", RelayParent: "edge1"})
	waitFor(t, "edge2 in the cluster", func() bool { return len(edge2.Cluster().Members()) == 3 })
	key := createSession(t, edge1, admin, "tree")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pub := publish(t, ctx, ingest, key, 8)
	defer func() { _ = pub.Wait() }()
	waitFor(t, "edge2 (two hops) to list a complete segment", func() bool {
		r := get(t, edge2.URL()+"/live/tree/video/media.m3u8")
		return r.code == 200 && strings.Contains(string(r.body), "#EXTINF")
	})
	// Only edge1 subscribed at the ingest; edge2 went through edge1.
	if n := metricValue(t, ingest, `classmesh_relay_subscribers{track="tree/video"}`); n != 1 {
		t.Errorf("ingest has %v subscribers of tree/video, want 1 (edge1)", n)
	}
	if n := metricValue(t, edge1, `classmesh_relay_upstream_subscriptions`); n < 1 {
		t.Errorf("edge1 has %v upstream subscriptions", n)
	}
	if n := metricValue(t, edge1, `classmesh_relay_subscribers{track="tree/video"}`); n < 1 {
		t.Errorf("edge1 has %v subscribers of tree/video (edge2 below it)", n)
	}
}
