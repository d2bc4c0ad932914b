package control

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
)

// FuzzDecodeCommand feeds arbitrary log entries to the decoder and to the
// FSM: a malformed entry must come back as an error result, never a panic,
// and a decodable one must survive an encode/decode round trip.
func FuzzDecodeCommand(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\x01{\"op\":\"create\",\"k\":\"course\",\"id\":\"c1\",\"at\":\"2026-01-01T00:00:00Z\",\"p\":{\"title\":\"x\",\"visibility\":\"public\"}}"))
	f.Add([]byte("\x01{\"op\":\"rollback\",\"k\":\"asset\",\"id\":\"a\",\"to\":1}"))
	f.Add([]byte("\x01{\"op\":\"delete\",\"k\":\"site\",\"id\":\"s\",\"p\":null}"))
	f.Add([]byte{1})
	f.Add([]byte{})
	fs, err := openFSM(filepath.Join(f.TempDir(), "catalog.db"), 3, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = fs.close() })
	var idx uint64
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err == nil {
			again, err := EncodeCommand(c)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if _, err := DecodeCommand(again); err != nil {
				t.Fatalf("round trip: %v", err)
			}
		}
		idx++
		res, ok := fs.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: b}).(*applyResult)
		if !ok || res == nil {
			t.Fatal("no apply result")
		}
		if err != nil && res.Err == nil {
			t.Fatalf("FSM accepted an entry the decoder rejects: %v", err)
		}
	})
}
