package node

import (
	"testing"
	"time"
)

// TestConfigDefaults checks the one defaulting rule: a zero field takes
// the default, a set field (negative ones included, which turn a feature
// off) is kept.
func TestConfigDefaults(t *testing.T) {
	d := DefaultConfig()
	got := Config{}.withDefaults()
	if got.HTTPAddr != d.HTTPAddr || got.SegmentTarget != d.SegmentTarget ||
		got.MemoryCacheBytes != d.MemoryCacheBytes || got.DiskCacheBytes != d.DiskCacheBytes ||
		got.RescanInterval != d.RescanInterval || got.P2P != d.P2P ||
		got.HTTPMinRate != d.HTTPMinRate || got.HTTPRateGrace != d.HTTPRateGrace || got.Logger == nil {
		t.Fatalf("zero config: %+v", got)
	}
	set := Config{
		HTTPAddr: "127.0.0.1:0", SegmentTarget: 2 * time.Second, MemoryCacheBytes: -1,
		DiskCacheBytes: -1, RescanInterval: -1, P2P: "off", HTTPMinRate: -1,
	}.withDefaults()
	if set.HTTPAddr != "127.0.0.1:0" || set.SegmentTarget != 2*time.Second || set.MemoryCacheBytes != -1 ||
		set.DiskCacheBytes != -1 || set.RescanInterval != -1 || set.P2P != "off" || set.HTTPMinRate != -1 {
		t.Fatalf("set config changed: %+v", set)
	}
}
