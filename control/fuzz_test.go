package control

import (
	"bytes"
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
	f.Add([]byte("\x01{\"op\":\"create\",\"k\":\"asset\",\"id\":\"a\",\"at\":\"2026-01-01T00:00:00Z\",\"p\":{\"title\":\"x\u202e\",\"course_id\":\"c\",\"source\":\"a.mp4\",\"status\":\"ready\"}}"))
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
			// The proposal-time text check takes any decoded payload.
			if c.Op == OpCreate || c.Op == OpUpdate {
				if rec, err := c.decodePayload(); err == nil {
					_ = checkTextFields(rec)
				}
			}
		}
		idx++
		out := fs.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: b})
		if _, batch := out.(*batchResult); batch && b[0] == BatchVersion {
			return // a batch entry: FuzzDecodeBatch
		}
		res, ok := out.(*applyResult)
		if !ok || res == nil {
			t.Fatal("no apply result")
		}
		if err != nil && res.Err == nil {
			t.Fatalf("FSM accepted an entry the decoder rejects: %v", err)
		}
	})
}

// FuzzDecodeBatch feeds arbitrary batch entries to the splitter and to the
// FSM: a malformed entry fails as a whole, a well-formed one gives one
// result per command, and nothing panics.
func FuzzDecodeBatch(f *testing.F) {
	one := []byte("\x01{\"op\":\"create\",\"k\":\"site\",\"id\":\"s1\",\"at\":\"2026-01-01T00:00:00Z\",\"p\":{\"cidrs\":[\"10.0.0.0/8\"],\"p2p_policy\":\"on\"}}")
	two := []byte("\x01{\"op\":\"update\",\"k\":\"site\",\"id\":\"s1\",\"im\":1,\"at\":\"2026-01-01T00:00:00Z\",\"p\":{\"cidrs\":[\"10.0.0.0/8\"],\"p2p_policy\":\"off\"}}")
	for _, cmds := range [][][]byte{{one}, {one, two}, {one, []byte{1}, two}, {[]byte("\x01{}"), []byte("\x02\x01\x01\x01")}} {
		if b, err := encodeBatch(cmds); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{BatchVersion})
	f.Add([]byte{BatchVersion, 0})
	f.Add([]byte{BatchVersion, 2, 1, 1})
	fs, err := openFSM(filepath.Join(f.TempDir(), "catalog.db"), 3, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = fs.close() })
	var idx uint64
	f.Fuzz(func(t *testing.T, b []byte) {
		cmds, derr := decodeBatch(b)
		if derr == nil {
			again, err := encodeBatch(cmds)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("round trip: %v", err)
			}
		}
		idx++
		switch res := fs.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: b}).(type) {
		case *batchResult:
			if derr != nil || len(res.results) != len(cmds) {
				t.Fatalf("FSM split an entry the decoder rejects (%v) or into %d results", derr, len(res.results))
			}
		case *applyResult:
			if len(b) > 0 && b[0] == BatchVersion && (derr == nil || res.Err == nil) {
				t.Fatalf("batch entry answered with one result: %v / %v", derr, res.Err)
			}
		default:
			t.Fatalf("no apply result: %T", res)
		}
	})
}
