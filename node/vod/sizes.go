package vod

import (
	"strconv"
	"strings"
)

// segmentsKey is the index key of an asset's segment record: the segment
// target (so a changed target rebuilds it) and the asset ID.
func (l *Library) segmentsKey(assetID string) string {
	return strconv.FormatInt(int64(l.cfg.SegmentTarget), 10) + "/" + assetID
}

func splitSegmentsKey(k string) (target, assetID string) {
	target, assetID, _ = strings.Cut(k, "/")
	return target, assetID
}

// sizeSegments fills in every segment's size: from the persisted segment
// record when it was built for the same fingerprint and the same
// boundaries, else from the mp4 writer's header size plus the sample bytes
// (and persists the result).
func (l *Library) sizeSegments(a *Asset) {
	key := l.segmentsKey(a.ID)
	if rec := l.loadSegments(key, a.fingerprint); rec != nil && applySegments(a, rec) {
		return
	}
	rec := &segmentRecord{fingerprint: a.fingerprint, renditions: map[string][]segEntry{}}
	for _, r := range a.Renditions {
		entries := make([]segEntry, len(r.Segments))
		for i := range r.Segments {
			samples := r.samples(i)
			size := int64(l.headerSize(r.Track, samples)) + r.payload(i)
			r.Segments[i].Size = size
			entries[i] = segEntry{count: len(samples), size: size}
		}
		rec.order = append(rec.order, r.ID)
		rec.renditions[r.ID] = entries
	}
	if err := l.store.put(bucketSegments, key, encodeSegments(rec)); err != nil {
		l.log.Warn("vod: persist segment index", "asset", a.ID, "err", err)
	}
}

func (l *Library) loadSegments(key, fp string) *segmentRecord {
	b, err := l.store.get(bucketSegments, key)
	if err != nil || b == nil {
		return nil
	}
	rec, err := decodeSegments(b)
	if err != nil {
		l.log.Warn("vod: corrupt segment record, rebuilding", "key", key, "err", err)
		return nil
	}
	if rec.fingerprint != fp {
		return nil
	}
	return rec
}

// applySegments copies sizes from rec if its boundaries match the
// computed ones exactly; it reports whether every rendition matched.
func applySegments(a *Asset, rec *segmentRecord) bool {
	if len(rec.renditions) != len(a.Renditions) {
		return false
	}
	for _, r := range a.Renditions {
		entries, ok := rec.renditions[r.ID]
		if !ok || len(entries) != len(r.Segments) {
			return false
		}
		for i, e := range entries {
			if e.count != r.Segments[i].SampleCount || e.size < r.payload(i)+8 {
				return false
			}
		}
	}
	for _, r := range a.Renditions {
		for i, e := range rec.renditions[r.ID] {
			r.Segments[i].Size = e.size
		}
	}
	return true
}

// payload is the sum of segment n's sample sizes.
func (r *Rendition) payload(n int) int64 {
	var sum int64
	for _, s := range r.samples(n) {
		sum += int64(s.Size)
	}
	return sum
}
