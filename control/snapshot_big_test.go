package control

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// memSink is a raft.SnapshotSink into memory.
type memSink struct{ bytes.Buffer }

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }

var _ raft.SnapshotSink = (*memSink)(nil)

// TestSnapshotOf100000Records snapshots a catalog of 100 000 records and
// restores it into a fresh replica: same applied index, every record there.
func TestSnapshotOf100000Records(t *testing.T) {
	if testing.Short() {
		t.Skip("100 000 records")
	}
	const records, batch = 100_000, 2_000
	src, err := openFSM(filepath.Join(t.TempDir(), "catalog.db"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	idx := uint64(0)
	for start := 0; start < records; start += batch {
		logs := make([]*raft.Log, 0, batch)
		for i := start; i < start+batch; i++ {
			idx++
			payload := fmt.Sprintf(`{"name":"site-%06d","cidrs":["10.%d.%d.0/24"],"p2p_policy":"on"}`, i, i/256%256, i%256)
			b, err := EncodeCommand(&Command{Op: OpCreate, Kind: KindSite, ID: fmt.Sprintf("site-%06d", i), At: testAt, Payload: []byte(payload)})
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, &raft.Log{Index: idx, Type: raft.LogCommand, Data: b})
		}
		for i, r := range src.ApplyBatch(logs) {
			if res, ok := r.(*applyResult); !ok || res.Err != nil {
				t.Fatalf("record %d: %+v", start+i, r)
			}
		}
	}
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	t.Logf("snapshot of %d records: %d bytes", records, sink.Len())

	dst, err := openFSM(filepath.Join(t.TempDir(), "catalog.db"), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.close()
	if err := dst.Restore(io.NopCloser(&sink)); err != nil {
		t.Fatal(err)
	}
	if dst.appliedIndex() != src.appliedIndex() || dst.appliedIndex() != records {
		t.Fatalf("applied index after restore %d, source %d", dst.appliedIndex(), src.appliedIndex())
	}
	n := 0
	if err := dst.view(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(KindSite)).Stats().KeyN
		if v := tx.Bucket([]byte(KindSite)).Get([]byte("site-054321")); !bytes.Contains(v, []byte("10.212.49.0/24")) {
			return fmt.Errorf("site-054321 restored as %s", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != records {
		t.Fatalf("%d records after restore, want %d", n, records)
	}
}
