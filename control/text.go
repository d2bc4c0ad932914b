package control

import "fmt"

// Free text (titles, descriptions, names) is shown in course lists, the
// player and logs. checkTextFields rejects the characters that make such a
// text show something else than it holds: NUL and the other C0 and C1
// controls and DEL (tab, line feed and carriage return are allowed in
// multi-line fields only), and the Unicode bidirectional controls
// (embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069, the
// marks U+200E, U+200F and U+061C), which can reorder how a title reads.
//
// The check runs when a write is proposed (Store.prepare, on the leader,
// for API writes and forwarded ones alike), not in the FSM: a log entry
// written before the rule existed must apply the same way on every
// replica, whatever version applies it.

// textField is one free-text value of a record.
type textField struct {
	name      string
	value     string
	multiline bool
}

// textFields lists the free-text fields of rec.
func textFields(rec record) []textField {
	switch r := rec.(type) {
	case *Course:
		return []textField{{"title", r.Title, false}, {"description", r.Description, true}}
	case *Module:
		return []textField{{"title", r.Title, false}}
	case *Lesson:
		out := []textField{{"title", r.Title, false}}
		for i, ch := range r.Chapters {
			out = append(out, textField{fmt.Sprintf("chapters[%d].title", i), ch.Title, false})
		}
		return out
	case *Asset:
		out := []textField{{"title", r.Title, false}, {"source", r.Source, false}, {"reason", r.Reason, true}}
		for i, rd := range r.Renditions {
			f := fmt.Sprintf("renditions[%d]", i)
			out = append(out, textField{f + ".name", rd.Name, false}, textField{f + ".codecs", rd.Codecs, false},
				textField{f + ".path", rd.Path, false})
		}
		return out
	case *LiveSession:
		return []textField{{"title", r.Title, false}, {"ingest_node", r.IngestNode, false}}
	}
	return nil
}

// checkTextFields checks every free-text field of rec with checkControls.
func checkTextFields(rec record) error {
	for _, f := range textFields(rec) {
		if err := checkControls(f.name, f.value, f.multiline); err != nil {
			return err
		}
	}
	return nil
}

// checkControls rejects control and bidirectional control characters in
// s; multiline allows tab, line feed and carriage return.
func checkControls(field, s string, multiline bool) error {
	for i, r := range s {
		switch {
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return invalid(field, "contains the control character %U at byte %d; text fields take no control characters", r, i)
		case isBidiControl(r):
			return invalid(field, "contains the bidirectional control character %U at byte %d; it can make text read differently than it is stored", r, i)
		}
	}
	return nil
}

// isBidiControl reports whether r is a Unicode bidirectional formatting
// character.
func isBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}
