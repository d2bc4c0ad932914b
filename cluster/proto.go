package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Wire format shared by the fill and origin protocols. Every frame is
//
//	magic [4]byte | length uint16 (big endian) | payload [length]byte
//
// and payload strings are "length uint16 | bytes", each bounded. A frame
// is read whole (at most maxFrame bytes) before it is decoded, so a peer
// cannot make the decoder allocate more than that.
const (
	maxFrame     = 4096 // payload bound of every frame
	maxField     = 256  // bound of a fill request string field
	maxMessage   = 1024 // bound of an error message
	maxPathField = 1024 // bound of an origin path
)

// Frame magics: "CM" + kind + version.
var (
	magicFillRequest  = [4]byte{'C', 'M', 'F', 1}
	magicFillResponse = [4]byte{'C', 'M', 'f', 1}
	magicOriginReq    = [4]byte{'C', 'M', 'O', 1}
	magicOriginResp   = [4]byte{'C', 'M', 'o', 1}
)

// ErrMalformed is wrapped by every decoding error of a protocol frame.
var ErrMalformed = errors.New("cluster: malformed frame")

// encoder appends big-endian fields to a buffer.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) str(s string) {
	e.b = binary.BigEndian.AppendUint16(e.b, uint16(len(s)))
	e.b = append(e.b, s...)
}

// decoder reads big-endian fields from a payload; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("truncated payload")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// str reads a string of at most limit bytes that must be valid UTF-8
// without control characters.
func (d *decoder) str(name string, limit int) string {
	lb := d.take(2)
	if lb == nil {
		return ""
	}
	n := int(binary.BigEndian.Uint16(lb))
	if n > limit {
		d.fail("%s: %d bytes exceeds %d", name, n, limit)
		return ""
	}
	v := d.take(n)
	if v == nil {
		return ""
	}
	s := string(v)
	if !printable(s) {
		d.fail("%s: invalid UTF-8 or control character", name)
		return ""
	}
	return s
}

// end fails when bytes are left over.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// printable reports whether s is valid UTF-8 without C0 controls or DEL.
func printable(s string) bool {
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

// frame wraps payload in magic and length. The payload must fit maxFrame.
func frame(magic [4]byte, payload []byte) ([]byte, error) {
	if len(payload) > maxFrame {
		return nil, fmt.Errorf("cluster: frame of %d bytes exceeds %d", len(payload), maxFrame)
	}
	b := make([]byte, 0, 6+len(payload))
	b = append(b, magic[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...), nil
}

// readFrame reads one frame with the given magic from r and returns its
// payload. A wrong magic or oversized length wraps ErrMalformed; transport
// errors are returned as they are (io.EOF before any byte,
// io.ErrUnexpectedEOF inside the frame).
func readFrame(r io.Reader, magic [4]byte) ([]byte, error) {
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if [4]byte(hdr[:4]) != magic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrMalformed, hdr[:4])
	}
	n := int(binary.BigEndian.Uint16(hdr[4:]))
	if n > maxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrMalformed, n, maxFrame)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return p, nil
}

// truncMsg bounds an error message for the wire, keeping valid UTF-8 and
// replacing control characters.
func truncMsg(s string) string { return truncString(s, maxMessage) }

// truncString cuts s to at most limit bytes of printable UTF-8, replacing
// control characters and invalid bytes with '?'.
func truncString(s string, limit int) string {
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
