package control

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// TestTextControlCharacters reproduces finding 7 of issue 11: titles
// accepted NUL and bidirectional control characters. Every free-text
// field now refuses them when a write is proposed, with the field and the
// character named; descriptions keep tabs and newlines.
func TestTextControlCharacters(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := newTestNode(t, "n1", true, func(c *Config) { c.Registerer = reg })
	leaderOf(t, n)
	s := n.store
	ctx := context.Background()
	if _, err := s.Create(ctx, KindCourse, "c", &Course{Title: "C", Visibility: VisibilityPublic}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, KindModule, "m", &Module{CourseID: "c", Title: "M"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		kind  Kind
		rec   record
		field string
		char  string
	}{
		{"NUL in a title", KindCourse, &Course{Title: "Intro\x00", Visibility: VisibilityPublic}, "title", "U+0000"},
		{"newline in a title", KindCourse, &Course{Title: "a\nb", Visibility: VisibilityPublic}, "title", "U+000A"},
		{"escape in a title", KindModule, &Module{CourseID: "c", Title: "\x1b[31mred"}, "title", "U+001B"},
		{"C1 control", KindModule, &Module{CourseID: "c", Title: "a\u0085b"}, "title", "U+0085"},
		{"DEL", KindModule, &Module{CourseID: "c", Title: "a\x7fb"}, "title", "U+007F"},
		{"right-to-left override", KindCourse, &Course{Title: "exam\u202Efdp.exe", Visibility: VisibilityPublic}, "title", "U+202E"},
		{"isolate", KindCourse, &Course{Title: "a\u2066b", Visibility: VisibilityPublic}, "title", "U+2066"},
		{"left-to-right mark", KindCourse, &Course{Title: "a\u200eb", Visibility: VisibilityPublic}, "title", "U+200E"},
		{"arabic letter mark", KindCourse, &Course{Title: "a\u061cb", Visibility: VisibilityPublic}, "title", "U+061C"},
		{"bidi in a description", KindCourse, &Course{Title: "T", Description: "x\u202Ay", Visibility: VisibilityPublic}, "description", "U+202A"},
		{"NUL in a description", KindCourse, &Course{Title: "T", Description: "x\x00", Visibility: VisibilityPublic}, "description", "U+0000"},
		{"chapter title", KindLesson, &Lesson{ModuleID: "m", Title: "L", AssetID: "a", Chapters: []Chapter{{0, "x\u202Ey"}}}, "chapters[0].title", "U+202E"},
		{"asset title", KindAsset, &Asset{Title: "\u2067x", Source: "a.mp4", Status: AssetReady}, "title", "U+2067"},
		{"session title", KindSession, &LiveSession{CourseID: "c", Title: "a\x00", ScheduledStart: testAt, ScheduledEnd: testAt.Add(1e9), State: SessionScheduled}, "title", "U+0000"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, tt.kind, "x"+string(rune('a'+i)), tt.rec)
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != CodeInvalid || ce.Field != tt.field || !strings.Contains(ce.Message, tt.char) {
				t.Fatalf("err = %v, want invalid %s naming %s", err, tt.field, tt.char)
			}
		})
	}
	if got := counterValue(t, reg, "classmesh_catalog_refusals_total", "reason", "control_character"); got != float64(len(tests)) {
		t.Errorf("classmesh_catalog_refusals_total{reason=control_character} = %v, want %d", got, len(tests))
	}
	ok := &Course{Title: "Physik für Anfänger — عربى", Description: "Line one\n\tLine two\r\n", Visibility: VisibilityPublic}
	if _, err := s.Create(ctx, KindCourse, "ok", ok); err != nil {
		t.Fatalf("plain text refused: %v", err)
	}
}

// FuzzCheckControls: checkControls accepts exactly the texts without
// control or bidirectional characters (tab, LF and CR allowed in
// multi-line fields), and never panics.
func FuzzCheckControls(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00b", "a\u202eb", "line\nline", "\t", "\xff", "\u0085", "é\u2069"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		err := checkControls("title", s, multiline)
		bad := false
		for _, r := range s {
			if r == utf8.RuneError {
				continue // invalid UTF-8 is checkText's to refuse
			}
			allowed := multiline && (r == '\t' || r == '\n' || r == '\r')
			if !allowed && (r < 0x20 || r >= 0x7f && r <= 0x9f || isBidiControl(r)) {
				bad = true
			}
		}
		if bad != (err != nil) {
			t.Fatalf("checkControls(%q, %v) = %v, want refused=%v", s, multiline, err, bad)
		}
	})
}

// counterValue returns the value of counter name with label = value in
// reg (0 when absent).
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
