package wire

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"strings"
	"testing"
)

func TestHashListRoundTrip(t *testing.T) {
	sums := map[uint64]Digest{
		3: {Sum: sha256.Sum256([]byte("3")), Size: 30},
		7: {Sum: sha256.Sum256([]byte("7")), Size: 0},
	}
	b := AppendHashList(nil, "vod/demo/v720", []uint64{3, 7}, sums)
	list, err := DecodeHashList(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if list.V != ProtocolVersion || list.Swarm != "vod/demo/v720" || len(list.Segments) != 2 {
		t.Fatalf("list %+v", list)
	}
	for _, e := range list.Segments {
		d, ok := ParseDigest(e.SHA256, e.Size)
		if !ok || d != sums[e.Seq] || e.SHA256 != sums[e.Seq].Hex() {
			t.Errorf("entry %+v: %v %v", e, d, ok)
		}
	}
	if got := string(AppendHashList(nil, "live/s/a", nil, nil)); got != `{"v":1,"swarm":"live/s/a","segments":[]}` {
		t.Errorf("empty list %s", got)
	}
}

func TestParseDigest(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		sum  string
		size int64
		ok   bool
	}{
		{hex, 10, true},
		{strings.ToUpper(hex), 10, true},
		{hex, 0, true},
		{hex, MaxSegmentBytes, true},
		{hex, MaxSegmentBytes + 1, false},
		{hex, -1, false},
		{hex[:62], 10, false},
		{hex + "ab", 10, false},
		{strings.Repeat("zz", 32), 10, false},
	}
	for _, tt := range tests {
		if _, ok := ParseDigest(tt.sum, tt.size); ok != tt.ok {
			t.Errorf("ParseDigest(%q, %d) ok = %v", tt.sum, tt.size, ok)
		}
	}
	if _, err := DecodeHashList(strings.NewReader(`{"v":2,"swarm":"vod/a/b","segments":[]}`)); err == nil {
		t.Error("version 2 accepted")
	}
}

// FuzzDecodeHashList: hashes.json comes from the network.
func FuzzDecodeHashList(f *testing.F) {
	f.Add([]byte(`{"v":1,"swarm":"vod/a/r","segments":[{"seq":0,"sha256":"` + strings.Repeat("ab", 32) + `","size":10}]}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"segments":[{"seq":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := DecodeHashList(bytes.NewReader(b))
		if err != nil {
			return
		}
		if list.V != ProtocolVersion {
			t.Fatalf("version %d accepted", list.V)
		}
		sums := make(map[uint64]Digest)
		var seqs []uint64
		for _, e := range list.Segments {
			d, ok := ParseDigest(e.SHA256, e.Size)
			if !ok {
				continue
			}
			if d.Size < 0 || d.Size > MaxSegmentBytes {
				t.Fatalf("size %d accepted", d.Size)
			}
			if _, dup := sums[e.Seq]; !dup {
				seqs = append(seqs, e.Seq)
			}
			sums[e.Seq] = d
		}
		if !ValidSwarm(list.Swarm) {
			return
		}
		// What a client accepted, the tracker's encoder writes back the same.
		again, err := DecodeHashList(bytes.NewReader(AppendHashList(nil, list.Swarm, seqs, sums)))
		if err != nil || again.Swarm != list.Swarm || len(again.Segments) != len(seqs) {
			t.Fatalf("re-decode: %+v, %v", again, err)
		}
		for i, e := range again.Segments {
			if d, _ := ParseDigest(e.SHA256, e.Size); e.Seq != seqs[i] || !reflect.DeepEqual(d, sums[e.Seq]) {
				t.Fatalf("entry %d: %+v", i, e)
			}
		}
	})
}
