// Package drain is the lifecycle shared by the node-to-node protocol
// servers: handlers enter while the server is open; Close refuses new
// ones, cancels the running ones through Context and waits for them.
//
// Invariants: every Enter that returned true is paired with one Leave;
// after Close starts, Enter returns false, so Close's wait cannot race a
// new handler; Context is canceled before Close waits.
package drain

import (
	"context"
	"sync"
)

// Group tracks the handlers of one server. Create it with New.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

// New returns an open Group.
func New() *Group {
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{ctx: ctx, cancel: cancel}
}

// Context is canceled when Close starts.
func (g *Group) Context() context.Context { return g.ctx }

// Enter registers a handler; it returns false once the group is closing.
// A true result must be paired with Leave.
func (g *Group) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

// Leave ends a handler registered by Enter.
func (g *Group) Leave() { g.wg.Done() }

// Stop refuses new handlers and cancels running ones without waiting, for
// an owner that must release what the handlers block on before Close.
func (g *Group) Stop() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
}

// Close stops the group and waits for running handlers. It may be called
// more than once; it always returns nil.
func (g *Group) Close() error {
	g.Stop()
	g.wg.Wait()
	return nil
}

// Merge returns a context canceled when any of ctxs is; call the returned
// function to release it.
func Merge(ctxs ...context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctxs[0])
	stops := make([]func() bool, 0, len(ctxs)-1)
	for _, c := range ctxs[1:] {
		stops = append(stops, context.AfterFunc(c, cancel))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
