package cluster

import (
	"context"
	"sync"
)

// drainer is the lifecycle shared by the protocol servers: handlers enter
// while the server is open; Close refuses new ones, cancels the running
// ones through ctx and waits for them.
type drainer struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

func newDrainer() drainer {
	ctx, cancel := context.WithCancel(context.Background())
	return drainer{ctx: ctx, cancel: cancel}
}

// enter registers a handler; it returns false once the server is closing.
// A true result must be paired with leave.
func (d *drainer) enter() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.wg.Add(1)
	return true
}

func (d *drainer) leave() { d.wg.Done() }

// Close refuses new handlers, cancels running ones and waits for them.
func (d *drainer) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
	return nil
}
