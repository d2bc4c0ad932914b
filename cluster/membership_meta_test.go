package cluster

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var mtUpdate = flag.Bool("update-meta-golden", false, "rewrite testdata/meta_v1.golden")

func mtSampleMeta() nodeMeta {
	return nodeMeta{
		ID: "node-a", Roles: []Role{RoleEdge, RoleOrigin}, Region: "eu-west",
		HTTPAddr: "http://10.0.0.1:8080", QUICAddr: "10.0.0.1:7947", Version: "v0.1.0",
		Load: Load{EgressBPS: 123456789, CapacityBPS: 1 << 30, CacheFullness: 1},
	}
}

func TestMetaRoundTrip(t *testing.T) {
	long := strings.Repeat("région-", 100)
	for _, tc := range []struct {
		name string
		in   nodeMeta
		want nodeMeta
	}{
		{"sample", mtSampleMeta(), mtSampleMeta()},
		{"empty", nodeMeta{}, nodeMeta{}},
		{"all roles leaving", nodeMeta{ID: "x", Roles: []Role{RoleEdge, RoleOrigin, RoleControl}, Leaving: true},
			nodeMeta{ID: "x", Roles: []Role{RoleEdge, RoleOrigin, RoleControl}, Leaving: true}},
		{"fullness clamped", nodeMeta{Load: Load{CacheFullness: 7}}, nodeMeta{Load: Load{CacheFullness: 1}}},
		{"long fields truncated", nodeMeta{ID: long, Region: long, HTTPAddr: long, QUICAddr: long, Version: long},
			nodeMeta{ID: truncUTF8(long, maxMetaID), Region: truncUTF8(long, maxMetaRegion), HTTPAddr: truncUTF8(long, maxMetaHTTP),
				QUICAddr: truncUTF8(long, maxMetaQUIC), Version: truncUTF8(long, maxMetaVersion)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeMeta(tc.in)
			if len(b) > maxMetaSize {
				t.Fatalf("encoded %d bytes > %d", len(b), maxMetaSize)
			}
			got, err := decodeMeta(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestMetaWorstCaseSize(t *testing.T) {
	huge := strings.Repeat("€", 1000)
	b := encodeMeta(nodeMeta{ID: huge, Region: huge, HTTPAddr: huge, QUICAddr: huge, Version: huge,
		Roles: []Role{RoleEdge, RoleOrigin, RoleControl},
		Load:  Load{EgressBPS: ^uint64(0), CapacityBPS: ^uint64(0), CacheFullness: 1}})
	if len(b) > maxMetaSize {
		t.Fatalf("worst case %d bytes > %d", len(b), maxMetaSize)
	}
	if _, err := decodeMeta(b); err != nil {
		t.Fatal(err)
	}
}

func TestMetaGolden(t *testing.T) {
	path := filepath.Join("testdata", "meta_v1.golden")
	got := hex.EncodeToString(encodeMeta(mtSampleMeta())) + "\n"
	if *mtUpdate {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("encoding changed:\n got %s want %s", got, want)
	}
}

func TestMetaDecodeErrors(t *testing.T) {
	good := encodeMeta(mtSampleMeta())
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"short", []byte{1}},
		{"version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"string too long", []byte{1, 1, 0xff, 0x01}},
		{"bad varint", append([]byte{1, 1}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"invalid utf8", []byte{1, 1, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"oversize", make([]byte, maxMetaSize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeMeta(tc.in); !errors.Is(err, ErrBadMeta) {
				t.Fatalf("got %v, want ErrBadMeta", err)
			}
		})
	}
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(mtSampleMeta()))
	f.Add(encodeMeta(nodeMeta{}))
	f.Add([]byte{1, 0x87})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		again, err := decodeMeta(encodeMeta(m))
		if err != nil {
			t.Fatalf("re-encode of %+v: %v", m, err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed %+v to %+v", m, again)
		}
	})
}

func BenchmarkEncodeMeta(b *testing.B) {
	m := mtSampleMeta()
	for b.Loop() {
		encodeMeta(m)
	}
}

func BenchmarkDecodeMeta(b *testing.B) {
	buf := encodeMeta(mtSampleMeta())
	for b.Loop() {
		if _, err := decodeMeta(buf); err != nil {
			b.Fatal(err)
		}
	}
}
