package control

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

// BenchmarkStoreApply measures acknowledged writes on one raft node on disk.
func BenchmarkStoreApply(b *testing.B) {
	trans, err := raft.NewTCPTransport("127.0.0.1:0", nil, 3, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer trans.Close()
	cfg := testConfig("bench", filepath.Join(b.TempDir(), "bench"), trans)
	cfg.Bootstrap = true
	s, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.WaitLeader(ctx); err != nil {
		b.Fatal(err)
	}
	for !s.IsLeader() {
		_ = poll(ctx, s.IsLeader)
	}
	asset := testAsset("x")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		id := fmt.Sprintf("%p", &i)
		for pb.Next() {
			i++
			if _, err := s.Create(ctx, KindAsset, fmt.Sprintf("a%s-%d", id, i), asset); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkFSMApply measures the FSM alone (decode, checks, bbolt write).
func BenchmarkFSMApply(b *testing.B) {
	f, err := openFSM(filepath.Join(b.TempDir(), "catalog.db"), 10, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.close()
	payload := []byte(`{"title":"A","source":"a.mp4","duration":10,"status":"ready"}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data, _ := EncodeCommand(&Command{Op: OpCreate, Kind: KindAsset, ID: fmt.Sprintf("a%d", i), Payload: payload})
		res := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data}).(*applyResult)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
