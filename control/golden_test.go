package control

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// TestCommandGolden pins the wire format of a log entry: entries written by
// one version must stay readable by the next.
func TestCommandGolden(t *testing.T) {
	c := &Command{Op: OpUpdate, Kind: KindLesson, ID: "l1", IfMatch: 42, At: testAt,
		Payload: mustJSON(t, Lesson{ModuleID: "m1", Title: "Intro", AssetID: "a1", Chapters: []Chapter{{0, "Start"}}})}
	got, err := EncodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "command_v1.golden")
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding changed:\n got %q\nwant %q", got, want)
	}
	dec, err := DecodeCommand(want)
	if err != nil || dec.IfMatch != 42 || dec.Kind != KindLesson || !dec.At.Equal(testAt) {
		t.Fatalf("decode golden: %+v, %v", dec, err)
	}
}
