package control

import "context"

// ApplyAndWait applies cmd on the leader like Apply, then waits until this
// node's replica has applied it, so a read on this node right after sees
// the write (read-your-writes). A write that committed but is not applied
// here before ctx ends returns the Result with the wait's error.
func (f *Forwarder) ApplyAndWait(ctx context.Context, cmd Command) (*Result, error) {
	res, err := f.Apply(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return res, f.store.WaitApplied(ctx, res.Index)
}

// ReadYourWrites is a writer whose Apply is Forwarder.ApplyAndWait: the
// writer of the node's /api/v1 (control/api's Writer).
type ReadYourWrites struct{ F *Forwarder }

// Apply applies cmd through the leader and waits for the local replica.
func (w ReadYourWrites) Apply(ctx context.Context, cmd Command) (*Result, error) {
	return w.F.ApplyAndWait(ctx, cmd)
}
