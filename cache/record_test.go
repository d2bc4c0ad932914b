package cache

import (
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func goldenRecord() record {
	var sum [32]byte
	for i := range sum {
		sum[i] = byte(i)
	}
	return record{
		File:       "ab/abcdef0123456789-0011223344556677",
		Size:       1234567,
		SHA256:     sum,
		StoredAt:   time.Unix(1_700_000_000, 5).UTC(),
		Hits:       42,
		LastAccess: time.Unix(1_700_000_100, 0).UTC(),
		Queue:      queueMain,
		Freq:       2,
		Seq:        99,
	}
}

func TestRecordGolden(t *testing.T) {
	path := filepath.Join("testdata", "record.golden")
	got := hex.EncodeToString(goldenRecord().encode()) + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("encoding changed:\n got %s\nwant %s", got, want)
	}
	raw, _ := hex.DecodeString(strings.TrimSpace(string(want)))
	rec, err := decodeRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !recordsEqual(rec, goldenRecord()) {
		t.Errorf("decoded %+v, want %+v", rec, goldenRecord())
	}
}

func recordsEqual(a, b record) bool {
	return a.File == b.File && a.Size == b.Size && a.SHA256 == b.SHA256 &&
		a.StoredAt.Equal(b.StoredAt) && a.Hits == b.Hits && a.LastAccess.Equal(b.LastAccess) &&
		a.Queue == b.Queue && a.Freq == b.Freq && a.Seq == b.Seq
}

func TestDecodeRecordRejects(t *testing.T) {
	good := goldenRecord().encode()
	mutate := func(f func(r *record)) []byte {
		r := goldenRecord()
		f(&r)
		return r.encode()
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"wrong version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"path traversal", mutate(func(r *record) { r.File = "../../etc/passwd" })},
		{"absolute path", mutate(func(r *record) { r.File = "/etc/passwd-0000" })},
		{"upper-case hex", mutate(func(r *record) { r.File = "AB/ABCDEF-01" })},
		{"bad queue", mutate(func(r *record) { r.Queue = 7 })},
		{"bad frequency", mutate(func(r *record) { r.Freq = 4 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeRecord(tt.in); !errors.Is(err, errBadRecord) {
				t.Errorf("decodeRecord = %v, want errBadRecord", err)
			}
		})
	}
}

// FuzzDecodeRecord feeds arbitrary index values to the decoder: it must not
// panic, must only accept safe file names, and must round-trip what it accepts.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(goldenRecord().encode())
	f.Add([]byte{recordVersion})
	f.Add([]byte{recordVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	r := goldenRecord()
	r.Queue, r.Freq, r.Hits = queueSmall, 0, 0
	f.Add(r.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeRecord(b)
		if err != nil {
			return
		}
		if !validFileName(rec.File) || strings.Contains(rec.File, "..") {
			t.Fatalf("accepted unsafe file name %q", rec.File)
		}
		again, err := decodeRecord(rec.encode())
		if err != nil || !recordsEqual(again, rec) {
			t.Fatalf("round trip: %v, %+v != %+v", err, again, rec)
		}
	})
}
