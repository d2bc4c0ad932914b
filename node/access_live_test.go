package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// privateLiveSession creates a private course, a signing key and a live
// session of that course on n; it returns the stream key and a course
// token and a session token signed through the API.
func privateLiveSession(t *testing.T, n *Node, admin, course, session string) (streamKey, courseTok, sessionTok string) {
	t.Helper()
	if r := do(t, "POST", n.URL()+"/api/v1/courses", admin, fmt.Sprintf(`{"id":%q,"title":"Private","visibility":"private"}`, course)); r.code != 201 {
		t.Fatalf("course: %d %s", r.code, r.body)
	}
	now := time.Now().UTC()
	key := fmt.Sprintf(`{"kid":"k1","secret":"0123456789abcdef0123456789abcdef","not_before":%q,"not_after":%q}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339))
	if r := do(t, "POST", n.URL()+"/api/v1/keys", admin, key); r.code != 201 {
		t.Fatalf("key: %d %s", r.code, r.body)
	}
	body := fmt.Sprintf(`{"id":%q,"course_id":%q,"title":"Private class","scheduled_start":%q,"scheduled_end":%q}`,
		session, course, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	r := do(t, "POST", n.URL()+"/api/v1/sessions", admin, body)
	var out struct {
		StreamKey string `json:"stream_key"`
	}
	if r.code != 201 || json.Unmarshal(r.body, &out) != nil || out.StreamKey == "" {
		t.Fatalf("session: %d %s", r.code, r.body)
	}
	return out.StreamKey, signToken(t, n, admin, fmt.Sprintf(`{"course":%q}`, course)),
		signToken(t, n, admin, fmt.Sprintf(`{"session":%q}`, session))
}

// signToken asks POST /api/v1/playback-tokens for a token.
func signToken(t *testing.T, n *Node, admin, body string) string {
	t.Helper()
	r := do(t, "POST", n.URL()+"/api/v1/playback-tokens", admin, body)
	var out struct {
		Token string `json:"token"`
	}
	if r.code != 201 || json.Unmarshal(r.body, &out) != nil || out.Token == "" {
		t.Fatalf("playback token %s: %d %s", body, r.code, r.body)
	}
	return out.Token
}

// TestPrivateLiveClassNeedsToken (finding 3): ffmpeg publishes RTMP to a
// live session of a private course. /live/{session}/... answers 403
// without a token and 200 with a course or session token
// (/t/{token}/live/...) and the signed live page plays in Chromium; after
// the class ends its recording's /v/... is
// 403 without a token and plays with one; /metrics never names the
// session.
func TestPrivateLiveClassNeedsToken(t *testing.T) {
	requireTool(t, "ffmpeg")
	n := mustNewNode(t, Config{MediaDir: demoDir(t), ClusterSecret: testSecret, NodeID: "ingest", P2P: "off", LiveGrace: 10 * time.Second})
	waitFor(t, "the admin token", func() bool { return n.AdminToken() != "" })
	admin := n.AdminToken()
	key, courseTok, sessTok := privateLiveSession(t, n, admin, "secret-course", "secretclass")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pub := publish(t, ctx, n, key, 16)

	withCourse := n.URL() + "/t/" + courseTok + "/live/secretclass"
	waitFor(t, "the live master playlist with a course token", func() bool {
		return get(t, withCourse+"/master.m3u8").code == 200
	})
	var pl response
	waitFor(t, "a complete live segment", func() bool {
		pl = get(t, withCourse+"/video/media.m3u8")
		return pl.code == 200 && strings.Contains(string(pl.body), "#EXTINF")
	})
	tests := []struct {
		name, path string
		code       int
		reason     string
	}{
		{"master, no token", "/live/secretclass/master.m3u8", 403, "token_required"},
		{"media playlist, no token", "/live/secretclass/video/media.m3u8", 403, "token_required"},
		{"init, no token", "/live/secretclass/video/init.mp4", 403, "token_required"},
		{"segment, no token", "/live/secretclass/video/seg-0.m4s", 403, "token_required"},
		{"hashes, no token", "/live/secretclass/video/hashes.json", 403, "token_required"},
		{"master, course token", "/t/" + courseTok + "/live/secretclass/master.m3u8", 200, ""},
		{"media playlist, course token", "/t/" + courseTok + "/live/secretclass/video/media.m3u8", 200, ""},
		{"init, course token", "/t/" + courseTok + "/live/secretclass/video/init.mp4", 200, ""},
		{"master, session token", "/t/" + sessTok + "/live/secretclass/master.m3u8", 200, ""},
		{"master, garbage token", "/t/AAAA/live/secretclass/master.m3u8", 403, "malformed"},
		{"unknown session", "/live/nosuchclass/master.m3u8", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, n.URL()+tc.path)
			if r.code != tc.code || !strings.Contains(string(r.body), tc.reason) {
				t.Fatalf("%s: %d %.200s, want %d %q", tc.path, r.code, r.body, tc.code, tc.reason)
			}
		})
	}
	// The signed live page plays in Chromium (hls.js, LL-HLS through
	// /t/{token}/live/...).
	{
		nodeBin := requireBrowser(t)
		shot := filepath.Join(artifactsDir(t), "private-live-signed.png")
		cmd := exec.CommandContext(ctx, nodeBin, "test/play.mjs", "--url",
			n.URL()+"/t/"+courseTok+"/watch/secretclass?live=1&autoplay=1&muted=1&p2p=off",
			"--seconds", "4", "--screenshot", shot, "--allow-nonfatal")
		cmd.Dir = "../player"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("signed live page in Chromium: %v\n%s", err, out)
		}
	}
	if err := pub.Wait(); err != nil {
		t.Fatalf("publish: %v %s", err, pub.Stderr)
	}
	assertNoPrivateLabels(t, n, "secretclass")

	if r := do(t, "POST", n.URL()+"/api/v1/sessions/secretclass/end", admin, ""); r.code != 200 {
		t.Fatalf("end: %d %s", r.code, r.body)
	}
	var asset string
	waitFor(t, "the session to point to its recording", func() bool {
		st, err := n.Catalog().Session("secretclass")
		if err != nil || st.State != "ended" || st.RecordingAssetID == "" {
			return false
		}
		asset = st.RecordingAssetID
		return true
	})
	waitFor(t, "the recording to play with the course token", func() bool {
		return get(t, n.URL()+"/t/"+courseTok+"/v/"+asset+"/master.m3u8").code == 200
	})
	if r := get(t, n.URL()+"/v/"+asset+"/master.m3u8"); r.code != 403 || !strings.Contains(string(r.body), "token_required") {
		t.Fatalf("recording without a token: %d %s", r.code, r.body)
	}
	rend := videoRendition(t, n, asset)
	if r := get(t, n.URL()+"/v/"+asset+"/"+rend+"/seg-0.m4s"); r.code != 403 {
		t.Fatalf("recording segment without a token: %d", r.code)
	}
	if r := get(t, n.URL()+"/t/"+sessTok+"/v/"+asset+"/"+rend+"/seg-0.m4s"); r.code != 200 {
		t.Fatalf("recording segment with the session token: %d %.200s", r.code, r.body)
	}
	assertNoPrivateLabels(t, n, "secretclass")
}

// assertNoPrivateLabels fails if /metrics names id anywhere.
func assertNoPrivateLabels(t *testing.T, n *Node, id string) {
	t.Helper()
	m := get(t, n.AdminURL()+"/metrics") // the operator listener; the public one needs the admin token
	if m.code != 200 {
		t.Fatalf("/metrics: %d", m.code)
	}
	for _, line := range strings.Split(string(m.body), "\n") {
		if strings.Contains(line, id) {
			t.Fatalf("/metrics names private %q: %s", id, line)
		}
	}
}
