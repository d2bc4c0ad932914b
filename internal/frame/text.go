package frame

import "unicode/utf8"

// Printable reports whether s is valid UTF-8 without C0 controls or DEL.
func Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// TruncMsg bounds an error message for the wire (MaxMessage), keeping
// valid UTF-8 and replacing control characters.
func TruncMsg(s string) string { return Trunc(s, MaxMessage) }

// Trunc cuts s to at most limit bytes of printable UTF-8, replacing
// control characters and invalid bytes with '?'.
func Trunc(s string, limit int) string {
	b := make([]byte, 0, min(len(s), limit))
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = '?'
		}
		if len(b)+utf8.RuneLen(r) > limit {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
