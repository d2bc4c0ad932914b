// Package frame is the framing shared by classmesh's node-to-node QUIC
// protocols (fill, relay and keys in cluster, the remote origin in
// node/origin/remote). Every frame is
//
//	magic [4]byte | length uint16 (big endian) | payload [length]byte
//
// and payload strings are "length uint16 | bytes", each bounded by its
// protocol. A frame is read whole (at most MaxPayload bytes) before it is
// decoded, so a peer cannot make a decoder allocate more than that.
//
// Invariants: Encoder and Decoder agree field by field (u8, u64 big endian,
// length-prefixed strings); every decoding error wraps ErrMalformed, and
// the first one sticks; strings that decode are valid UTF-8 without C0
// controls or DEL (Printable). The package knows no protocol: magics,
// field order and bounds belong to each protocol.
//
// Error texts keep the "cluster:" prefix they had when the framing lived in
// cluster: they travel to peers inside answers and operators grep for them.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Bounds shared by every protocol.
const (
	// MaxPayload bounds the payload of every frame.
	MaxPayload = 4096
	// MaxMessage bounds an error message carried in a frame.
	MaxMessage = 1024
)

// ErrMalformed is wrapped by every decoding error of a protocol frame.
var ErrMalformed = errors.New("cluster: malformed frame")

// Encoder appends big-endian fields to a payload. The zero value is ready.
type Encoder struct{ b []byte }

// U8 appends one byte.
func (e *Encoder) U8(v uint8) { e.b = append(e.b, v) }

// U64 appends a big-endian uint64.
func (e *Encoder) U64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }

// Str appends a uint16 length and the bytes of s. Bounds are the caller's
// (its Validate runs first).
func (e *Encoder) Str(s string) {
	e.b = binary.BigEndian.AppendUint16(e.b, uint16(len(s)))
	e.b = append(e.b, s...)
}

// Raw appends bytes as they are (a fixed-size field such as a digest).
func (e *Encoder) Raw(p []byte) { e.b = append(e.b, p...) }

// Frame returns the payload wrapped in magic and length; it fails when the
// payload exceeds MaxPayload.
func (e *Encoder) Frame(magic [4]byte) ([]byte, error) {
	if len(e.b) > MaxPayload {
		return nil, fmt.Errorf("cluster: frame of %d bytes exceeds %d", len(e.b), MaxPayload)
	}
	b := make([]byte, 0, 6+len(e.b))
	b = append(b, magic[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.b)))
	return append(b, e.b...), nil
}

// Decoder reads big-endian fields from a payload; the first error sticks
// and later reads return zero values.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder over payload p.
func NewDecoder(p []byte) *Decoder { return &Decoder{b: p} }

// Fail records a malformed-payload error unless one is already recorded.
func (d *Decoder) Fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
}

// Take returns the next n bytes, or nil (recording an error) when fewer
// are left.
func (d *Decoder) Take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.Fail("truncated payload")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// U8 reads one byte.
func (d *Decoder) U8() uint8 {
	if v := d.Take(1); v != nil {
		return v[0]
	}
	return 0
}

// U64 reads a big-endian uint64.
func (d *Decoder) U64() uint64 {
	if v := d.Take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Str reads a string field of at most limit bytes that must be Printable;
// name labels the error.
func (d *Decoder) Str(name string, limit int) string {
	lb := d.Take(2)
	if lb == nil {
		return ""
	}
	n := int(binary.BigEndian.Uint16(lb))
	if n > limit {
		d.Fail("%s: %d bytes exceeds %d", name, n, limit)
		return ""
	}
	v := d.Take(n)
	if v == nil {
		return ""
	}
	s := string(v)
	if !Printable(s) {
		d.Fail("%s: invalid UTF-8 or control character", name)
		return ""
	}
	return s
}

// Err returns the first error recorded so far.
func (d *Decoder) Err() error { return d.err }

// End returns the first error, or one when bytes are left over.
func (d *Decoder) End() error {
	if d.err == nil && len(d.b) != 0 {
		d.Fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

// Read reads one frame with the given magic from r and returns its
// payload. A wrong magic or oversized length wraps ErrMalformed; transport
// errors are returned as they are (io.EOF before any byte,
// io.ErrUnexpectedEOF inside the frame).
func Read(r io.Reader, magic [4]byte) ([]byte, error) {
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if [4]byte(hdr[:4]) != magic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrMalformed, hdr[:4])
	}
	n := int(binary.BigEndian.Uint16(hdr[4:]))
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrMalformed, n, MaxPayload)
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
