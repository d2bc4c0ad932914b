package control

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// batcher coalesces concurrent writes into raft log entries, like a group
// commit: a write that finds no entry in flight is proposed at once (a
// lone writer waits for nothing); writes that arrive while entries are in
// flight queue, and when one returns the queue, up to MaxBatch commands
// and MaxBatchBytes, goes as the next entry. One goroutine proposes, so
// the log holds commands in the order they were queued.
type batcher struct {
	raft     *raft.Raft
	timeout  time.Duration // raft.Apply enqueue timeout
	maxCount int
	maxBytes int
	metrics  *metrics

	mu     sync.Mutex
	queue  []*pending
	closed bool

	kick  chan struct{} // a write was queued or a slot came free
	slots chan struct{} // entries in flight
	done  chan struct{}
	wg    sync.WaitGroup
}

// pending is one queued write. res and err are set before done closes.
type pending struct {
	data     []byte
	res      *applyResult
	err      error
	done     chan struct{}
	proposed bool // taken into an entry; guarded by batcher.mu
}

func newBatcher(r *raft.Raft, cfg *Config, m *metrics) *batcher {
	b := &batcher{
		raft: r, timeout: cfg.ApplyTimeout, maxCount: cfg.MaxBatch, maxBytes: cfg.MaxBatchBytes,
		metrics: m,
		kick:    make(chan struct{}, 1),
		slots:   make(chan struct{}, cfg.MaxBatchesInFlight),
		done:    make(chan struct{}),
	}
	b.wg.Add(1)
	go b.run()
	return b
}

// submit queues an encoded command. It fails with ErrClosed after close.
func (b *batcher) submit(data []byte) (*pending, error) {
	p := &pending{data: data, done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	b.queue = append(b.queue, p)
	b.mu.Unlock()
	b.signal()
	return p, nil
}

// withdraw removes p from the queue when it was not proposed yet; it
// reports whether it did (the write then never reaches the log).
func (b *batcher) withdraw(p *pending) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.proposed {
		return false
	}
	for i, q := range b.queue {
		if q == p {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return true
		}
	}
	return false
}

func (b *batcher) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// close stops proposing: queued writes fail with ErrClosed, entries in
// flight are waited for (raft resolves them, at the latest on shutdown).
func (b *batcher) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	close(b.done)
	b.wg.Wait()
}

func (b *batcher) run() {
	defer b.wg.Done()
	defer b.failQueued()
	for {
		select {
		case <-b.kick:
		case <-b.done:
			return
		}
		for {
			select {
			case b.slots <- struct{}{}:
			case <-b.done:
				return
			}
			batch := b.take()
			if len(batch) == 0 {
				<-b.slots
				break
			}
			f, err := b.propose(batch)
			b.wg.Add(1)
			go b.finish(batch, f, err)
		}
	}
}

// take removes the next batch from the queue: at least one command, then
// more while the count and byte limits allow.
func (b *batcher) take() []*pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, size := 0, 0
	for n < len(b.queue) && n < b.maxCount {
		l := len(b.queue[n].data) + batchOverhead
		if n > 0 && size+l > b.maxBytes {
			break
		}
		size += l
		n++
	}
	batch := make([]*pending, n)
	copy(batch, b.queue[:n])
	for _, p := range batch {
		p.proposed = true
	}
	b.queue = append(b.queue[:0], b.queue[n:]...)
	return batch
}

// propose hands the batch to raft as one entry (a single command keeps
// the single-command encoding).
func (b *batcher) propose(batch []*pending) (raft.ApplyFuture, error) {
	b.metrics.batchSize.Observe(float64(len(batch)))
	if len(batch) == 1 {
		return b.raft.Apply(batch[0].data, b.timeout), nil
	}
	cmds := make([][]byte, len(batch))
	for i, p := range batch {
		cmds[i] = p.data
	}
	entry, err := encodeBatch(cmds)
	if err != nil {
		return nil, err
	}
	return b.raft.Apply(entry, b.timeout), nil
}

// finish waits for the entry, frees its slot and answers every write.
func (b *batcher) finish(batch []*pending, f raft.ApplyFuture, err error) {
	defer b.wg.Done()
	start := time.Now()
	if err == nil {
		err = b.await(f)
	}
	b.metrics.applyLatency.Observe(time.Since(start).Seconds())
	<-b.slots
	b.signal()
	var results []*applyResult
	if err == nil {
		results, err = splitResponse(f.Response(), len(batch))
	}
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.res = results[i]
		}
		close(p.done)
	}
}

// await waits for a proposed entry. Raft leaves an entry unresolved when
// it shuts down while the entry still sits in its apply queue, so closing
// the batcher (after raft's shutdown) ends the wait: the entry may or may
// not have been committed.
func (b *batcher) await(f raft.ApplyFuture) error {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return mapRaftErr(err)
	case <-b.done:
		select {
		case err := <-ch:
			return mapRaftErr(err)
		default:
			return fmt.Errorf("%w: store closed while committing", ErrIndeterminate)
		}
	}
}

// splitResponse turns the FSM's response to an entry of n commands into
// one result per command.
func splitResponse(resp interface{}, n int) ([]*applyResult, error) {
	switch r := resp.(type) {
	case *applyResult:
		if n == 1 {
			return []*applyResult{r}, nil
		}
		if r != nil && r.Err != nil { // the whole batch entry was rejected
			out := make([]*applyResult, n)
			for i := range out {
				out[i] = r
			}
			return out, nil
		}
	case *batchResult:
		if r != nil && len(r.results) == n {
			return r.results, nil
		}
	}
	return nil, fmt.Errorf("control: unexpected apply response %T for %d commands", resp, n)
}

func (b *batcher) failQueued() {
	b.mu.Lock()
	q := b.queue
	b.queue = nil
	b.closed = true
	b.mu.Unlock()
	for _, p := range q {
		p.err = ErrClosed
		close(p.done)
	}
}
