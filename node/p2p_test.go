package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/p2p/wire"
)

// TestP2PTrackerOnTheEdge: the edge serves the tracker at /p2p/ws, learns
// the SHA-256 of a segment when it serves it, answers want with that hash,
// lists it in hashes.json and counts the bytes it served.
func TestP2PTrackerOnTheEdge(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, _ := n.Library().Asset("demo")
	rend := a.Renditions[0]
	base := n.URL() + "/v/demo/" + rend.ID
	swarm := "vod/demo/" + rend.ID

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.URL(), "http")+"/p2p/ws",
		&websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	send := func(m wire.Message) {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, wire.MustEncode(m)); err != nil {
			t.Fatal(err)
		}
	}
	// next returns the next tracker message of type typ.
	next := func(typ string) wire.Message {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			m, err := wire.DecodeTrackerMessage(b)
			if err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if m.Type() == typ {
				return m
			}
		}
	}
	send(&wire.JoinMsg{Swarm: swarm, Upload: true})
	if w := next(wire.TypeWelcome).(*wire.WelcomeMsg); w.Policy != wire.PolicyOn || w.Peer == "" {
		t.Fatalf("welcome = %+v", w)
	}

	seg := get(t, base+"/seg-1.m4s")
	if seg.code != 200 {
		t.Fatalf("segment: %d", seg.code)
	}
	want := sha256.Sum256(seg.body)
	// The edge learns the hash as the response ends, a moment after the
	// client has the body: ask until the answer carries it.
	var pm *wire.PeersMsg
	for range 50 {
		send(&wire.WantMsg{Seq: 1})
		if pm = next(wire.TypePeers).(*wire.PeersMsg); pm.SHA256 != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pm.SHA256 != hex.EncodeToString(want[:]) || pm.Size != int64(len(seg.body)) {
		t.Fatalf("peers = %+v, want sha256 %x size %d", pm, want, len(seg.body))
	}

	hl := get(t, base+"/hashes.json")
	var list struct {
		Swarm    string `json:"swarm"`
		Segments []struct {
			Seq    uint64 `json:"seq"`
			SHA256 string `json:"sha256"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(hl.body, &list); err != nil || hl.code != 200 {
		t.Fatalf("hashes.json %d %q: %v", hl.code, hl.body, err)
	}
	if list.Swarm != swarm || len(list.Segments) != 1 || list.Segments[0].Seq != 1 || list.Segments[0].SHA256 != pm.SHA256 {
		t.Fatalf("hashes.json = %+v", list)
	}
	served := metricValue(t, n, `classmesh_p2p_bytes_served_http_total{asset="demo",site="none"}`)
	if served < float64(len(seg.body)) {
		t.Errorf("served bytes metric = %v, want >= %d", served, len(seg.body))
	}
}

func TestP2POff(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t), P2P: "off"})
	if r := get(t, n.URL()+"/p2p/ws"); r.code != 404 {
		t.Fatalf("/p2p/ws with --p2p off: %d", r.code)
	}
}

// TestCatalogSitesFollowTheCatalog: the tracker's locality sites come from
// the catalog and change with it; the most specific network wins.
func TestCatalogSitesFollowTheCatalog(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Catalog().WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	sites := catalogSites{n}
	addr := netip.MustParseAddr("10.1.2.3")
	if _, _, ok := sites.Site(addr); ok {
		t.Fatal("a site before any was created")
	}
	for _, s := range []control.Site{
		{Name: "campus", CIDRs: []string{"10.0.0.0/8"}, P2PPolicy: "on"},
		{Name: "library", CIDRs: []string{"10.1.2.0/24"}, P2PPolicy: "download-only"},
	} {
		if _, err := n.Catalog().Create(ctx, control.KindSite, s.Name, &s); err != nil {
			t.Fatal(err)
		}
	}
	if name, pol, ok := sites.Site(addr); !ok || name != "library" || pol != wire.PolicyDownloadOnly {
		t.Fatalf("site = %q %q %v, want library download-only", name, pol, ok)
	}
	if name, _, ok := sites.Site(netip.MustParseAddr("10.9.9.9")); !ok || name != "campus" {
		t.Fatalf("site = %q %v, want campus", name, ok)
	}
	if _, err := n.Catalog().Delete(ctx, control.KindSite, "library", 0); err != nil {
		t.Fatal(err)
	}
	if name, _, ok := sites.Site(addr); !ok || name != "campus" {
		t.Fatalf("after deleting library: %q %v, want campus", name, ok)
	}
}
