package vod

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/classmesh/classmesh/node/origin"
)

// memOrigin is an in-memory origin for tests: files by path with a
// settable identity, counting the bytes read and able to fail.
type memOrigin struct {
	mu      sync.Mutex
	assets  []origin.AssetSpec
	files   map[string][]byte
	ids     map[string]string
	readErr error // returned by ReadAt when set
	listErr error

	reads atomic.Int64 // ReadAt calls
	opens atomic.Int64
}

func newMemOrigin() *memOrigin {
	return &memOrigin{files: map[string][]byte{}, ids: map[string]string{}}
}

// add adds an asset with files (path -> content).
func (o *memOrigin) add(id string, files map[string][]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	spec := origin.AssetSpec{ID: id, Title: id}
	for p, b := range files {
		o.files[p] = b
		o.ids[p] = fmt.Sprintf("%d-v1", len(b))
		spec.Files = append(spec.Files, p)
	}
	sort.Strings(spec.Files)
	o.assets = append(o.assets, spec)
	sort.Slice(o.assets, func(i, j int) bool { return o.assets[i].ID < o.assets[j].ID })
}

// addFile adds a one-file asset from a file on disk.
func (o *memOrigin) addFile(t testing.TB, id, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	o.add(id, map[string][]byte{id + "/" + id + ".mp4": b})
}

func (o *memOrigin) remove(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, a := range o.assets {
		if a.ID == id {
			o.assets = append(o.assets[:i], o.assets[i+1:]...)
			return
		}
	}
}

func (o *memOrigin) setIdentity(path, id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids[path] = id
}

func (o *memOrigin) setReadErr(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.readErr = err
}

func (o *memOrigin) List(ctx context.Context) ([]origin.AssetSpec, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.listErr != nil {
		return nil, o.listErr
	}
	return append([]origin.AssetSpec(nil), o.assets...), nil
}

func (o *memOrigin) Open(ctx context.Context, path string) (origin.Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opens.Add(1)
	b, ok := o.files[path]
	if !ok {
		return nil, fmt.Errorf("%w: %s", origin.ErrNotFound, path)
	}
	return &memObject{o: o, r: bytes.NewReader(b), size: int64(len(b)), id: o.ids[path]}, nil
}

func (o *memOrigin) String() string { return "mem:" }

type memObject struct {
	o    *memOrigin
	r    *bytes.Reader
	size int64
	id   string
}

func (m *memObject) ReadAt(p []byte, off int64) (int, error) {
	m.o.reads.Add(1)
	m.o.mu.Lock()
	err := m.o.readErr
	m.o.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return m.r.ReadAt(p, off)
}

func (m *memObject) Size() int64      { return m.size }
func (m *memObject) Identity() string { return m.id }
func (m *memObject) Close() error     { return nil }

var _ io.ReaderAt = (*memObject)(nil)
