package control

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestIdentifierRule: new ids follow internal/ident's rule before they
// enter the log (finding 8 of issue 11: the catalog and the node disagreed
// on ids), while log entries written before the rule, with ids starting
// with '.' or '-', still apply the same way on every node.
func TestIdentifierRule(t *testing.T) {
	n := newTestNode(t, "n1", true, nil)
	s := n.store
	if err := s.WaitLeader(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"_intro", "intro.v2", strings.Repeat("x", 128)} {
		mustCreate(t, s, KindAsset, id, testAsset(id))
	}
	for _, id := range []string{"-draft", ".hidden", strings.Repeat("x", 129), "a b"} {
		_, err := s.Create(ctxT(t, 10*time.Second), KindAsset, id, testAsset("x"))
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != CodeInvalid || ce.Field != "id" {
			t.Errorf("create asset %.20q: %v, want an invalid id", id, err)
		}
	}

	h := newHarness(t)
	for _, id := range []string{".legacy", "-legacy"} {
		h.ok(create(KindAsset, id, testAsset(id)))
	}
	for _, id := range []string{"", "a/b", strings.Repeat("x", 129)} {
		if res := h.apply(create(KindAsset, id, testAsset("x"))); res.Err == nil {
			t.Errorf("the FSM applied an asset with id %.20q", id)
		}
	}
}
