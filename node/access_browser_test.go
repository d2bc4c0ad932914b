package node

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/playback"
)

// privateDemo puts the demo asset into a private course with a signing key
// and returns a course token signed through the API and an expired one.
func privateDemo(t *testing.T, n *Node) (good, expired string) {
	t.Helper()
	waitFor(t, "the admin token", func() bool { return n.AdminToken() != "" })
	c, ctx := n.Catalog(), t.Context()
	waitFor(t, "the demo asset in the catalog", func() bool {
		_, err := c.Get(control.KindAsset, "demo")
		return err == nil
	})
	secret := "0123456789abcdef0123456789abcdef"
	for _, w := range []struct {
		kind control.Kind
		id   string
		rec  any
	}{
		{control.KindCourse, "secret-course", control.Course{ID: "secret-course", Title: "Private", Visibility: control.VisibilityPrivate}},
		{control.KindModule, "m1", control.Module{ID: "m1", CourseID: "secret-course", Title: "Week 1"}},
		{control.KindLesson, "l1", control.Lesson{ID: "l1", ModuleID: "m1", Title: "Intro", AssetID: "demo"}},
		{control.KindKey, "k1", control.SigningKey{KID: "k1", Secret: secret, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}},
	} {
		if _, err := c.Create(ctx, w.kind, w.id, w.rec); err != nil {
			t.Fatalf("create %s %s: %v", w.kind, w.id, err)
		}
	}
	good = signToken(t, n, n.AdminToken(), `{"course":"secret-course","ttl_seconds":3600}`)
	expired, err := playback.Sign(playback.Key{Kid: "k1", Secret: []byte(secret)},
		playback.Claims{Scope: playback.CourseScope("secret-course"), Expiry: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return good, expired
}

// TestBrowserPrivateLectureP2P (finding 2): the demo belongs to a private
// course. Two Chromium pages open the signed player page
// /t/{token}/watch/demo and the second takes at least half of its segment
// bytes from the first over WebRTC (the tracker admitted both with the
// token). A third page opens /watch/demo without a token while they play:
// it shows "this lecture needs a link from your course", and when it
// joins the private swarm itself the tracker answers error forbidden and
// closes the socket, so it receives 0 bytes from peers. A page with an
// expired token shows the expired-link message. Screenshots of both
// messages at desktop and 360 px width go to test-artifacts/.
func TestBrowserPrivateLectureP2P(t *testing.T) {
	nodeBin := requireBrowser(t)
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	good, expired := privateDemo(t, n)
	swarm := vodSwarm("demo", videoRendition(t, n, "demo"))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "test/p2p-private.mjs",
		"--url", n.URL()+"/t/"+good+"/watch/demo?autoplay=1&muted=1",
		"--thief-url", n.URL()+"/watch/demo?autoplay=1&muted=1",
		"--expired-url", n.URL()+"/t/"+expired+"/watch/demo?autoplay=1&muted=1",
		"--swarm", swarm, "--seconds", "10", "--delay", "6", "--out", artifactsDir(t), "--min-peer-share", "0.5")
	cmd.Dir = "../player"
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	t.Logf("p2p-private.mjs: %s", out.String())
	if err != nil {
		t.Fatalf("private lecture test failed: %v\n%s", err, stderr.String())
	}
	var res struct {
		B struct {
			BytesFromPeers float64 `json:"bytesFromPeers"`
		} `json:"b"`
		Thief struct {
			BytesFromPeers float64 `json:"bytesFromPeers"`
		} `json:"thief"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &res); err != nil {
		t.Fatalf("p2p-private.mjs output: %v", err)
	}
	if res.B.BytesFromPeers == 0 || res.Thief.BytesFromPeers != 0 {
		t.Fatalf("peer bytes: signed page %v, page without token %v", res.B.BytesFromPeers, res.Thief.BytesFromPeers)
	}
	// The edge refused the thief's join and counted it; its metrics name
	// no private asset.
	if v := metricValue(t, n, `classmesh_access_refusals_total{path="p2p",reason="token_required"}`); v < 1 {
		t.Fatalf("p2p refusals counted: %v", v)
	}
	if v := metricValue(t, n, `classmesh_p2p_connection_failures_total{reason="forbidden"}`); v < 1 {
		t.Fatalf("tracker forbidden failures: %v", v)
	}
	assertNoPrivateLabels(t, n, `"demo"`)
	assertNoPrivateLabels(t, n, "vod/demo/")
}
