package relay

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/internal/clustertest"
	"github.com/classmesh/classmesh/cluster/transport"
)

// ryStalledSubscriber subscribes to track on addr with a raw protocol
// client whose QUIC receive windows are tiny and which never reads its
// group streams: the server's writes block as soon as the windows fill.
func ryStalledSubscriber(t *testing.T, addr, track string) {
	t.Helper()
	// Windows of 16 KiB per stream, 64 KiB per connection.
	tr, err := transport.New(transport.Config{NodeID: "stalled", CA: clustertest.CA(t), ReceiveWindow: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	ctx := ryCtx(t)
	ctrl, err := tr.OpenStream(ctx, addr, RelayALPN)
	if err != nil {
		t.Fatal(err)
	}
	req := relayRequest{Kind: relaySubscribe, Token: 77, Track: track, Path: []string{"stalled"}}
	c, err := relayHandshake(ctrl, clustertest.Marshal(t, req))
	if err != nil || c.Code != relayOK {
		t.Fatalf("stalled subscribe: %+v, %v", c, err)
	}
	for range relayParkedStreams {
		st, err := tr.OpenStream(ctx, addr, RelayALPN)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(clustertest.Marshal(t, relayRequest{Kind: relayAttach, Token: 77})); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
}

// TestRelaySlowRemoteSubscriber: a subscriber that stops reading gets its
// groups cancelled after the delivery timeout, while the publisher and a
// healthy subscriber of the same track carry on unaffected.
func TestRelaySlowRemoteSubscriber(t *testing.T) {
	origin := ryNewNode(t, "origin", func(c *RelayConfig) { c.DeliveryTimeout = time.Second })
	edge := ryNewNode(t, "edge", nil)
	p := ryPublish(t, origin, "s/v")
	ryStalledSubscriber(t, origin.addr, "s/v")
	healthy := rySubscribe(t, edge, origin.addr, "s/v")

	const groups, per = 30, 4
	var got []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for range groups * per {
			got = append(got, ryKey(ryNext(t, healthy)))
		}
	})
	for g := range uint64(groups) {
		for id := range uint64(per) {
			p.Write(ryObj(g+1, id, 8<<10))
			time.Sleep(20 * time.Millisecond)
		}
	}
	wg.Wait()
	for i, k := range got {
		if want := fmt.Sprintf("%d/%d", i/per+1, i%per); k != want {
			t.Fatalf("healthy subscriber: object %d is %s, want %s", i, k, want)
		}
	}
	if n := origin.cancelled(leaveTimeout); n < 1 {
		t.Fatalf("groups cancelled for the stalled subscriber: %v", n)
	}
	if n := origin.droppedCount(leaveTimeout) + origin.droppedCount(leaveSuperseded); n < per {
		t.Fatalf("objects dropped for the stalled subscriber: %v", n)
	}
	if got := origin.subscribers("s/v"); got != 2 {
		t.Fatalf("origin subscribers = %v, want 2", got)
	}
	p.Close()
	ryExpectEnd(t, healthy, ErrTrackEnded)
}
