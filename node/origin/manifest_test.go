package origin

import (
	"reflect"
	"slices"
	"testing"
)

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    []AssetSpec
		wantErr bool
	}{
		{
			name: "full",
			doc: `[{"id":"b","title":"B","description":"about b","files":["b/720p.mp4","b/240p.mp4"]},
			       {"id":"a","files":["a.mp4"],"future":true}]`,
			want: []AssetSpec{
				{ID: "a", Title: "a", Files: []string{"a.mp4"}},
				{ID: "b", Title: "B", Description: "about b", Files: []string{"b/240p.mp4", "b/720p.mp4"}},
			},
		},
		{
			name: "invalid entries skipped",
			doc: `[{"id":"../x","files":["x.mp4"]},
			       {"id":"ok","files":["../etc/passwd","/abs.mp4","ok/a.txt","ok\\b.mp4","ok/a.mp4","ok/a.mp4"]},
			       {"id":"nofiles","files":[]},
			       {"id":"ok","files":["dup.mp4"]}]`,
			want: []AssetSpec{{ID: "ok", Title: "ok", Files: []string{"ok/a.mp4"}}},
		},
		{name: "empty array", doc: `[]`, want: []AssetSpec{}},
		{name: "not json", doc: `<html>`, wantErr: true},
		{name: "object", doc: `{"id":"a"}`, wantErr: true},
		{name: "wrong type", doc: `[{"id":1}]`, wantErr: true},
		{name: "trailing data", doc: `[] []`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseManifest([]byte(tc.doc), nil)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseManifest succeeded: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("parseManifest:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
}

func TestParseAssetMeta(t *testing.T) {
	tests := []struct {
		name, doc         string
		wantTitle, wantDe string
	}{
		{"full", `{"title":"T","description":"D"}`, "T", "D"},
		{"blank title", `{"title":"  ","description":"D"}`, "x", "D"},
		{"malformed", `{"title":`, "x", ""},
		{"wrong type", `{"title":5}`, "x", ""},
		{"absent", "", "x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := AssetSpec{ID: "x"}
			var doc []byte
			if tc.doc != "" {
				doc = []byte(tc.doc)
			}
			applyMeta(&a, doc, discard())
			if a.Title != tc.wantTitle || a.Description != tc.wantDe {
				t.Fatalf("got title %q description %q", a.Title, a.Description)
			}
		})
	}
}

// FuzzManifest checks that decoding assets.json never panics and only
// returns valid, sorted, unique assets with clean MP4 paths.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`[{"id":"demo","title":"Demo","description":"d","files":["demo/240p.mp4","demo/720p.mp4"]}]`))
	f.Add([]byte(`[{"id":"..","files":["../x.mp4"]},{"id":"a","files":["a.MOV","a.MOV"]}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		specs, err := parseManifest(doc, nil)
		if err != nil {
			return
		}
		if !slices.IsSortedFunc(specs, func(a, b AssetSpec) int { return cmpID(a.ID, b.ID) }) {
			t.Fatalf("not sorted: %+v", specs)
		}
		for i, a := range specs {
			if !ValidID(a.ID) || a.Title == "" || len(a.Files) == 0 {
				t.Fatalf("invalid asset %+v", a)
			}
			if i > 0 && specs[i-1].ID == a.ID {
				t.Fatalf("duplicate id %q", a.ID)
			}
			if !slices.IsSorted(a.Files) {
				t.Fatalf("files not sorted: %q", a.Files)
			}
			for _, p := range a.Files {
				if _, err := CleanPath(p); err != nil || !IsMP4Name(p) {
					t.Fatalf("unsafe file %q", p)
				}
			}
		}
	})
}

func cmpID(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
