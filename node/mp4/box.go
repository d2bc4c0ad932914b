package mp4

import (
	"encoding/binary"
	"fmt"
)

// box is one ISO-BMFF box held in memory.
type box struct {
	// typ is the four-character type.
	typ string
	// raw is the whole box: header and body.
	raw []byte
	// body is the box payload after the (8, 16 or 24 byte) header.
	body []byte
}

// fourCC returns a printable form of a four-character code.
func fourCC(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// malformed builds an error wrapping ErrMalformed for box path.
func malformed(path string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, path, fmt.Sprintf(format, args...))
}

// unsupported builds an error wrapping ErrUnsupported.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// parseHeader decodes a box header at the start of b, whose last byte is the
// end of the enclosing container. It returns the type, the header length and
// the total box size; a size field of 0 means "to the end of the container".
func parseHeader(b []byte, path string) (typ string, hdr int, size uint64, err error) {
	if len(b) < 8 {
		return "", 0, 0, malformed(path, "box header needs 8 bytes, %d left", len(b))
	}
	size = uint64(binary.BigEndian.Uint32(b))
	typ = fourCC(b[4:8])
	hdr = 8
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return "", 0, 0, malformed(path, "box %q: largesize header truncated", typ)
		}
		size = binary.BigEndian.Uint64(b[8:])
		hdr = 16
	}
	if typ == "uuid" {
		hdr += 16
	}
	if size < uint64(hdr) {
		return "", 0, 0, malformed(path, "box %q: size %d smaller than its header", typ, size)
	}
	if size > uint64(len(b)) {
		return "", 0, 0, malformed(path, "box %q: size %d runs past its parent (%d bytes left)", typ, size, len(b))
	}
	return typ, hdr, size, nil
}

// eachChild calls fn for every box in b, the body of the container at path.
// Trailing bytes too short for a box header are an error.
func eachChild(b []byte, path string, fn func(bx box) error) error {
	for len(b) > 0 {
		typ, hdr, size, err := parseHeader(b, path)
		if err != nil {
			return err
		}
		if err := fn(box{typ: typ, raw: b[:size], body: b[hdr:size]}); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// children returns the first child of each requested type, indexed by type.
// Repeated children of the same type keep the first occurrence.
func children(b []byte, path string) (map[string]box, error) {
	m := make(map[string]box)
	err := eachChild(b, path, func(bx box) error {
		if _, ok := m[bx.typ]; !ok {
			m[bx.typ] = bx
		}
		return nil
	})
	return m, err
}

// cursor reads big-endian fields from a box body with bounds checks. The
// first overrun is remembered in err and every later read returns zero, so
// parsers can read a run of fields and check once.
type cursor struct {
	b    []byte
	pos  int
	path string
	err  error
}

func newCursor(b []byte, path string) *cursor { return &cursor{b: b, path: path} }

// take returns the next n bytes or nil after recording an overrun.
func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.pos {
		c.err = malformed(c.path, "truncated: need %d bytes at offset %d, have %d", n, c.pos, len(c.b)-c.pos)
		return nil
	}
	p := c.b[c.pos : c.pos+n]
	c.pos += n
	return p
}

func (c *cursor) u8() uint8 {
	if p := c.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if p := c.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (c *cursor) u24() uint32 {
	if p := c.take(3); p != nil {
		return uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2])
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if p := c.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if p := c.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// skip advances n bytes.
func (c *cursor) skip(n int) { c.take(n) }

// left returns the number of unread bytes.
func (c *cursor) left() int { return len(c.b) - c.pos }

// fullBox reads the version and 24-bit flags of a FullBox.
func (c *cursor) fullBox() (version uint8, flags uint32) {
	return c.u8(), c.u24()
}

// count reads a 32-bit entry count and checks that count entries of
// entrySize bytes fit in the rest of the box, so callers can allocate
// count entries safely.
func (c *cursor) count(entrySize int) int {
	n := c.u32()
	if c.err != nil {
		return 0
	}
	if uint64(n)*uint64(entrySize) > uint64(c.left()) {
		c.err = malformed(c.path, "entry count %d needs %d bytes, box has %d", n, uint64(n)*uint64(entrySize), c.left())
		return 0
	}
	return int(n)
}
