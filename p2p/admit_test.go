package p2p

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// dialURL opens a tracker socket at the env's URL plus suffix (a query).
func (e *testEnv) dialURL(suffix string) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, e.url+suffix, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { _ = conn.CloseNow() })
	return &client{t: e.t, conn: conn}
}

// TestJoinNeedsAdmission (finding 2): with Config.Admit set, a socket whose
// upgrade request carries no authorisation for the swarm is answered
// error forbidden and closed with 1008 before it is ever in the swarm, so
// no peer of that swarm is paired with it; a socket with the
// authorisation joins and is paired as before.
func TestJoinNeedsAdmission(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	e := newEnv(t, Config{Admit: func(r *http.Request, swarm string) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, swarm)
		if r.URL.Query().Get("token") == "good" {
			return nil
		}
		return errors.New("no token")
	}})
	holder := e.dialURL("?token=good")
	holder.send(&wire.JoinMsg{Swarm: testSwarm, Upload: true})
	holder.expect(wire.TypeWelcome)

	thief := e.dialURL("")
	thief.send(&wire.JoinMsg{Swarm: testSwarm, Upload: true})
	m := thief.expect(wire.TypeError).(*wire.ErrorMsg)
	if m.Code != wire.CodeForbidden {
		t.Fatalf("error code %q, want %q", m.Code, wire.CodeForbidden)
	}
	if st := thief.closed(); st != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v, want 1008", st)
	}
	if got := e.metricValue("classmesh_p2p_connection_failures_total", map[string]string{"reason": failForbidden}); got != 1 {
		t.Fatalf("forbidden failures = %v, want 1", got)
	}

	// A second authorised viewer is paired with the holder, and the
	// refused socket never appeared in anyone's neighbors.
	viewer := e.dialURL("?token=good")
	viewer.send(&wire.JoinMsg{Swarm: testSwarm, Upload: false})
	w := viewer.expect(wire.TypeWelcome).(*wire.WelcomeMsg)
	viewer.id = w.Peer
	nb := viewer.neighborsUntil(func(p []string) bool { return len(p) == 1 })
	if len(nb) != 1 {
		t.Fatalf("neighbors %v, want only the holder", nb)
	}
	e.tr.mu.Lock()
	sw := e.tr.swarms[testSwarm]
	e.tr.mu.Unlock()
	sw.mu.Lock()
	n := len(sw.peers)
	sw.mu.Unlock()
	if n != 2 {
		t.Fatalf("swarm has %d peers, want 2 (the refused socket must not be one)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen[1] != testSwarm {
		t.Fatalf("Admit saw %v", seen)
	}
}
