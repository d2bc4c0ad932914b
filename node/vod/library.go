package vod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"sync"

	"github.com/classmesh/classmesh/node/mp4"
	"github.com/classmesh/classmesh/node/origin"
)

// Library is the set of assets of one origin, indexed and ready to
// package. Create it with New, fill it with Refresh and release it with
// Close.
type Library struct {
	cfg     Config
	log     *slog.Logger
	origin  Origin
	store   *store
	metrics *metrics
	objects *objectPool
	bufs    sync.Pool // *[]byte read buffers

	// headerSize returns the CMAF segment header length for samples of t.
	headerSize func(t *mp4.Track, samples []mp4.Sample) int

	refreshMu sync.Mutex         // serialises Refresh
	files     map[string]*source // decoded file index by path; refreshMu
	mu        sync.RWMutex       // guards assets
	assets    map[string]*Asset  // published snapshot
	sorted    []*Asset           // published snapshot, by ID

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	stale  chan struct{} // wakes the re-index goroutine
	wg     sync.WaitGroup
}

// source is one indexed origin file.
type source struct {
	path     string
	identity string
	file     *mp4.File
}

// New returns an empty library for o; call Refresh to index it.
func New(cfg Config, o Origin) (*Library, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("%w: nil origin", ErrConfig)
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	st, err := openStore(cfg.IndexPath)
	if err != nil {
		return nil, err
	}
	l := &Library{
		cfg: cfg, log: cfg.Logger, origin: o, store: st, metrics: m,
		objects:    newObjectPool(),
		headerSize: segmentHeaderSize,
		files:      map[string]*source{},
		assets:     map[string]*Asset{},
		stale:      make(chan struct{}, 1),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Add(1)
	go l.reindexLoop()
	return l, nil
}

// segmentHeaderSize is the one place that asks the mp4 writer for a
// segment header's length.
func segmentHeaderSize(t *mp4.Track, samples []mp4.Sample) int {
	return mp4.SegmentHeaderSize(t, samples)
}

// Close stops the background re-index, closes pooled origin objects and
// the index file. Packaging after Close fails with ErrClosed.
func (l *Library) Close() error {
	l.cancel()
	l.wg.Wait()
	l.refreshMu.Lock()
	defer l.refreshMu.Unlock()
	l.objects.closeAll()
	return l.store.close()
}

// reindexLoop runs a Refresh whenever packaging noticed a changed source.
func (l *Library) reindexLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.stale:
			if err := l.Refresh(l.ctx); err != nil && l.ctx.Err() == nil {
				l.log.Warn("vod: re-index after source change failed", "err", err)
			}
		}
	}
}

// scheduleRefresh asks for a re-index without blocking.
func (l *Library) scheduleRefresh() {
	select {
	case l.stale <- struct{}{}:
	default:
	}
}

// Assets returns every asset, ready or failed, sorted by ID.
func (l *Library) Assets() []*Asset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return append([]*Asset(nil), l.sorted...)
}

// Asset looks up an asset by ID.
func (l *Library) Asset(id string) (*Asset, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	a, ok := l.assets[id]
	return a, ok
}

// Refresh lists the origin and (re)indexes its assets. Files whose origin
// identity matches the persisted index are not read again. An asset whose
// files cannot be indexed is published as failed with a reason; Refresh
// itself fails only when the listing fails or ctx ends (then nothing
// changes). Assets no longer listed are removed.
func (l *Library) Refresh(ctx context.Context) error {
	l.refreshMu.Lock()
	defer l.refreshMu.Unlock()
	if l.ctx.Err() != nil {
		return ErrClosed
	}
	specs, err := l.origin.List(ctx)
	if err != nil {
		return fmt.Errorf("vod: list %s: %w", l.origin, err)
	}
	next := make(map[string]*Asset, len(specs))
	paths := map[string]bool{}
	for _, spec := range specs {
		a := l.indexAsset(ctx, spec)
		if ctx.Err() != nil {
			return fmt.Errorf("vod: refresh %s: %w", l.origin, ctx.Err())
		}
		next[a.ID] = a
		for _, f := range spec.Files {
			paths[f] = true
		}
	}
	l.publish(next)
	l.prune(paths, next)
	return nil
}

func (l *Library) publish(next map[string]*Asset) {
	sorted := make([]*Asset, 0, len(next))
	for _, a := range next {
		sorted = append(sorted, a)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	l.mu.Lock()
	l.assets, l.sorted = next, sorted
	l.mu.Unlock()
}

// prune forgets index records of files and assets that disappeared.
func (l *Library) prune(paths map[string]bool, assets map[string]*Asset) {
	for p := range l.files {
		if !paths[p] {
			delete(l.files, p)
		}
	}
	if err := l.store.prune(bucketFiles, func(k string) bool { return paths[k] }); err != nil {
		l.log.Warn("vod: prune index", "err", err)
	}
	err := l.store.prune(bucketSegments, func(k string) bool {
		_, id := splitSegmentsKey(k)
		_, ok := assets[id]
		return ok
	})
	if err != nil {
		l.log.Warn("vod: prune index", "err", err)
	}
}

// indexAsset indexes the files of spec and builds the asset. A transient
// origin failure keeps the previously published version of the asset.
func (l *Library) indexAsset(ctx context.Context, spec origin.AssetSpec) *Asset {
	srcs := make([]*source, 0, len(spec.Files))
	for _, p := range spec.Files {
		src, err := l.indexFile(ctx, p)
		if err != nil {
			if prev, ok := l.Asset(spec.ID); ok && prev.Status == StatusReady && errors.Is(err, origin.ErrUnavailable) {
				l.log.Warn("vod: origin unavailable, keeping previous index", "asset", spec.ID, "file", p, "err", err)
				return prev
			}
			return l.failed(spec, fmt.Sprintf("%s: %v", path.Base(p), err))
		}
		srcs = append(srcs, src)
	}
	a, err := l.build(spec, srcs)
	if err != nil {
		return l.failed(spec, err.Error())
	}
	return a
}

func (l *Library) failed(spec origin.AssetSpec, reason string) *Asset {
	l.log.Error("vod: asset failed", "asset", spec.ID, "reason", reason)
	return &Asset{ID: spec.ID, Title: title(spec), Description: spec.Description, Status: StatusFailed, Reason: reason}
}

func title(spec origin.AssetSpec) string {
	if spec.Title != "" {
		return spec.Title
	}
	return spec.ID
}

// indexFile returns the index of one origin file: from memory, from the
// persisted record when the identity still matches, or by reading the
// file's metadata.
func (l *Library) indexFile(ctx context.Context, p string) (*source, error) {
	obj, err := l.origin.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOrigin, err)
	}
	defer obj.Close()
	id := obj.Identity()
	if src, ok := l.files[p]; ok && src.identity == id {
		return src, nil
	}
	if src := l.loadFile(p, id); src != nil {
		l.files[p] = src
		return src, nil
	}
	f, err := mp4.ReadFile(obj, obj.Size())
	if err != nil {
		return nil, err
	}
	if err := checkFile(f); err != nil {
		return nil, err
	}
	l.metrics.indexed()
	src := &source{path: p, identity: id, file: f}
	if err := l.store.put(bucketFiles, p, encodeFile(id, f)); err != nil {
		l.log.Warn("vod: persist index", "file", p, "err", err)
	}
	l.files[p] = src
	return src, nil
}

// loadFile returns the persisted index of p if its identity is id.
func (l *Library) loadFile(p, id string) *source {
	rec, err := l.store.get(bucketFiles, p)
	if err != nil || rec == nil {
		return nil
	}
	recID, f, err := decodeFile(rec)
	if err == nil {
		err = checkFile(f)
	}
	if err != nil {
		l.log.Warn("vod: corrupt index record, rebuilding", "file", p, "err", err)
		return nil
	}
	if recID != id {
		return nil
	}
	return &source{path: p, identity: id, file: f}
}

// checkFile rejects what the packager cannot serve.
func checkFile(f *mp4.File) error {
	if len(f.Tracks) == 0 {
		return mp4.ErrNoTracks
	}
	for _, t := range f.Tracks {
		if t.Timescale == 0 || t.Codec == "" {
			return fmt.Errorf("%w: track %d: unsupported codec %q", mp4.ErrUnsupported, t.ID, t.Format)
		}
		if len(t.Samples) == 0 {
			return fmt.Errorf("%w: track %d has no samples", mp4.ErrMalformed, t.ID)
		}
		for i := 1; i < len(t.Samples); i++ {
			if t.Samples[i].DTS < t.Samples[i-1].DTS {
				return fmt.Errorf("%w: track %d: decode times go backwards at sample %d", mp4.ErrMalformed, t.ID, i)
			}
		}
	}
	return nil
}
