package vod

import (
	"context"
	"sync"
	"time"

	"github.com/classmesh/classmesh/node/origin"
)

// Object pool limits: opened objects are reused for a short while so that
// consecutive segment requests do not reopen the file (an HTTP HEAD for
// HTTP origins); after objectTTL the object is reopened, which re-checks
// the source identity.
const (
	objectTTL     = 30 * time.Second
	objectPoolMax = 32
)

// objectPool shares open origin objects between concurrent packaging
// requests, with reference counts so an evicted object is closed only when
// its last user is done.
type objectPool struct {
	mu sync.Mutex
	m  map[string]*pooledObject
}

type pooledObject struct {
	obj    origin.Object
	path   string
	opened time.Time
	refs   int
	dead   bool // evicted: close when refs drops to zero
}

func newObjectPool() *objectPool {
	return &objectPool{m: map[string]*pooledObject{}}
}

// get returns an open object for path, opening it with open when there is
// no fresh one. Call put when done.
func (p *objectPool) get(ctx context.Context, path string, open func(context.Context, string) (origin.Object, error)) (*pooledObject, error) {
	p.mu.Lock()
	if po, ok := p.m[path]; ok && time.Since(po.opened) < objectTTL {
		po.refs++
		p.mu.Unlock()
		return po, nil
	}
	p.mu.Unlock()
	obj, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	po := &pooledObject{obj: obj, path: path, opened: time.Now(), refs: 1}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.m[path]; ok {
		p.evictLocked(old)
	}
	if len(p.m) >= objectPoolMax {
		p.evictLocked(p.oldestLocked())
	}
	p.m[path] = po
	return po, nil
}

// put releases an object from get; bad drops it from the pool (after a
// read error, so the next request reopens).
func (p *objectPool) put(po *pooledObject, bad bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	po.refs--
	if bad && p.m[po.path] == po {
		p.evictLocked(po)
	}
	if po.dead && po.refs == 0 {
		po.obj.Close()
	}
}

func (p *objectPool) oldestLocked() *pooledObject {
	var o *pooledObject
	for _, po := range p.m {
		if o == nil || po.opened.Before(o.opened) {
			o = po
		}
	}
	return o
}

func (p *objectPool) evictLocked(po *pooledObject) {
	if po == nil || po.dead {
		return
	}
	po.dead = true
	delete(p.m, po.path)
	if po.refs == 0 {
		po.obj.Close()
	}
}

// closeAll evicts every object; objects in use close when released.
func (p *objectPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, po := range p.m {
		p.evictLocked(po)
	}
}
