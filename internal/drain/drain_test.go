package drain

import (
	"context"
	"testing"
	"time"
)

func TestGroupClose(t *testing.T) {
	g := New()
	if !g.Enter() {
		t.Fatal("Enter on an open group")
	}
	left := make(chan struct{})
	go func() {
		<-g.Context().Done() // Close cancels before it waits
		g.Leave()
		close(left)
	}()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-left:
	default:
		t.Fatal("Close returned before the handler left")
	}
	if g.Enter() {
		t.Fatal("Enter after Close")
	}
	if err := g.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestStop(t *testing.T) {
	g := New()
	g.Stop()
	if g.Enter() || g.Context().Err() == nil {
		t.Fatal("Stop left the group open")
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMerge(t *testing.T) {
	a, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	b, cancelB := context.WithCancel(context.Background())
	ctx, cancel := Merge(a, b)
	defer cancel()
	cancelB()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("merged context not canceled with its second parent")
	}
	ctx2, cancel2 := Merge(context.Background())
	cancel2()
	if ctx2.Err() == nil {
		t.Fatal("release did not cancel")
	}
}
