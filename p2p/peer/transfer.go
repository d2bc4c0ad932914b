package peer

import (
	"context"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// inbound is the one segment transfer we are receiving on a link.
type inbound struct {
	id, seq uint64
	size    int64 // the edge's size
	started bool  // data header accepted
	buf     []byte
	res     chan inResult // capacity 1
}

// inResult ends an inbound transfer: data (complete, unverified), none, or
// a failure reason (size, timeout, closed). A timeout carries the bytes
// received before it in data.
type inResult struct {
	data   []byte
	none   bool
	reason string
}

func (in *inbound) finish(r inResult) {
	select {
	case in.res <- r:
	default:
	}
}

// get asks the neighbor for seq and waits for all size bytes, none, ctx
// (reason timeout, after sending cancel) or the link closing.
func (l *link) get(ctx context.Context, seq uint64, size int64) inResult {
	select {
	case l.getSlot <- struct{}{}:
	case <-ctx.Done():
		return inResult{reason: wire.ReasonTimeout}
	case <-l.done:
		return inResult{reason: wire.ReasonClosed}
	}
	defer func() {
		<-l.getSlot
		l.p.notify() // the link is free for waiting fetches
	}()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return inResult{reason: wire.ReasonClosed}
	}
	l.nextID++
	in := &inbound{id: l.nextID, seq: seq, size: size, res: make(chan inResult, 1)}
	l.in = in
	l.mu.Unlock()
	l.sendControl(&wire.GetMsg{ID: in.id, Seq: seq})
	select {
	case r := <-in.res:
		return r
	case <-ctx.Done():
		l.sendControl(&wire.CancelMsg{ID: in.id})
		return l.drain(in)
	case <-l.done:
		return inResult{reason: wire.ReasonClosed}
	}
}

// After a cancel, the frames the sender had already queued keep coming;
// they are appended (a late transfer's bytes are kept, finishTail) until
// none arrived for drainIdle, at most for drainMax.
const (
	drainIdle = 150 * time.Millisecond
	drainMax  = 500 * time.Millisecond
)

// drain ends a cancelled transfer: the bytes received so far and those
// still in flight, as a timeout, or the whole segment if it completes
// meanwhile.
func (l *link) drain(in *inbound) inResult {
	stop := time.NewTimer(drainMax)
	defer stop.Stop()
	idle := time.NewTimer(drainIdle)
	defer idle.Stop()
	end := func() inResult {
		part := l.clearInbound(in)
		select {
		case r := <-in.res: // it ended just now
			return r
		default:
			return inResult{reason: wire.ReasonTimeout, data: part}
		}
	}
	last := l.received(in)
	for {
		select {
		case r := <-in.res:
			return r
		case <-l.done:
			return end()
		case <-stop.C:
			return end()
		case <-idle.C:
			n := l.received(in)
			if n == last {
				return end()
			}
			last = n
			idle.Reset(drainIdle)
		}
	}
}

// received is how many bytes of in have arrived.
func (l *link) received(in *inbound) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(in.buf)
}

// clearInbound ends transfer in and returns the bytes received so far
// (unverified; no frame is appended once it is cleared).
func (l *link) clearInbound(in *inbound) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.in == in {
		l.in = nil
	}
	return in.buf
}

// onData accepts the header of the current transfer if its size is the
// edge's; any other size ends the transfer with reason size.
func (l *link) onData(m chanMsg) {
	l.mu.Lock()
	in := l.in
	if in == nil || in.id != m.id {
		l.mu.Unlock()
		return // a late answer to a cancelled request
	}
	if in.started || m.size != in.size {
		l.in = nil
		l.mu.Unlock()
		in.finish(inResult{reason: wire.ReasonSize})
		return
	}
	in.started = true
	in.buf = make([]byte, 0, in.size)
	done := in.size == 0
	if done {
		l.in = nil
	}
	l.mu.Unlock()
	if done {
		in.finish(inResult{data: in.buf})
	}
}

// onBinary appends one frame of segment bytes to the current transfer,
// paced by the downlink bucket (blocking here backpressures the sender).
func (l *link) onBinary(b []byte) {
	l.mu.Lock()
	in := l.in
	if in == nil || !in.started {
		l.mu.Unlock()
		return // frames of a cancelled transfer
	}
	if len(b) > wire.MaxDataFrameBytes || int64(len(in.buf)+len(b)) > in.size {
		l.in = nil
		l.mu.Unlock()
		in.finish(inResult{reason: wire.ReasonSize})
		return
	}
	l.mu.Unlock()
	_ = l.p.down.Wait(l.p.ctx, len(b))
	l.mu.Lock()
	if l.in != in {
		l.mu.Unlock()
		return
	}
	in.buf = append(in.buf, b...)
	done := int64(len(in.buf)) == in.size
	if done {
		l.in = nil
	}
	l.mu.Unlock()
	if done {
		in.finish(inResult{data: in.buf})
	}
}

// serveJob is the one segment we are sending on a link.
type serveJob struct {
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// serve answers get: none when not uploading or not held, else the bytes
// in a goroutine that first waits for the previous job to stop.
func (l *link) serve(id, seq uint64) {
	e, ok := l.p.store.get(seq)
	if !ok || !l.p.uploading() {
		l.sendControl(&wire.NoneMsg{ID: id})
		return
	}
	ctx, cancel := context.WithCancel(l.p.ctx)
	job := &serveJob{id: id, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cancel()
		return
	}
	prev := l.job
	l.job = job
	l.mu.Unlock()
	if prev != nil {
		prev.cancel()
	}
	l.p.goTracked(func() {
		defer close(job.done)
		defer cancel()
		if prev != nil {
			<-prev.done
		}
		if job.ctx.Err() == nil {
			l.send(job, seq, e.data)
		}
	})
}

// send writes the data header and the frames of one segment.
func (l *link) send(job *serveJob, seq uint64, data []byte) {
	l.sendControl(&wire.DataMsg{ID: job.id, Seq: seq, Size: int64(len(data))})
	l.mu.Lock()
	dc := l.dc
	l.mu.Unlock()
	var flipped []byte
	if l.p.cfg.Malicious {
		flipped = make([]byte, wire.MaxDataFrameBytes)
	}
	for off := 0; off < len(data); off += wire.MaxDataFrameBytes {
		frame := data[off:min(off+wire.MaxDataFrameBytes, len(data))]
		if flipped != nil {
			for i, c := range frame {
				flipped[i] = ^c
			}
			frame = flipped[:len(frame)]
		}
		if job.ctx.Err() != nil || l.p.up.Wait(job.ctx, len(frame)) != nil || !l.waitLow(job) {
			return
		}
		if dc.Send(frame) != nil {
			return
		}
		l.p.st.bytesUp.Add(int64(len(frame)))
	}
	l.p.st.segsUp.Add(1)
}

// waitLow blocks while the channel's send buffer is above highWater.
func (l *link) waitLow(job *serveJob) bool {
	l.mu.Lock()
	dc := l.dc
	l.mu.Unlock()
	for dc.BufferedAmount() > highWater {
		select {
		case <-l.lowCh:
		case <-time.After(200 * time.Millisecond):
		case <-job.ctx.Done():
			return false
		case <-l.done:
			return false
		}
	}
	return true
}
