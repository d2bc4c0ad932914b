package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// recordVersion is the first byte of every encoded index record.
const recordVersion = 1

// errBadRecord wraps every index record decoding failure.
var errBadRecord = errors.New("cache: bad index record")

// record is the bbolt index value for one disk object (the key is the
// cache key). Access statistics (Hits, LastAccess, Queue, Freq, Seq) are
// written when the object is stored and rewritten on Close; they feed the
// policy when the tier is reopened.
type record struct {
	File       string // path relative to Dir: "ab/<hex>"
	Size       int64
	SHA256     [32]byte
	StoredAt   time.Time
	Hits       uint64
	LastAccess time.Time
	Queue      queueID
	Freq       uint8
	Seq        uint64
}

// encode returns the binary form of r.
func (r record) encode() []byte {
	b := make([]byte, 0, 64+len(r.File))
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(len(r.File)))
	b = append(b, r.File...)
	b = binary.AppendUvarint(b, uint64(r.Size))
	b = append(b, r.SHA256[:]...)
	b = binary.AppendVarint(b, r.StoredAt.UnixNano())
	b = binary.AppendUvarint(b, r.Hits)
	b = binary.AppendVarint(b, r.LastAccess.UnixNano())
	b = append(b, byte(r.Queue), r.Freq)
	b = binary.AppendUvarint(b, r.Seq)
	return b
}

// decodeRecord parses an index value. It never trusts the bytes: lengths
// are bounded and the file name must be one this package would generate.
func decodeRecord(b []byte) (record, error) {
	var r record
	d := decoder{b: b}
	if v := d.byte(); v != recordVersion {
		return r, fmt.Errorf("%w: version %d", errBadRecord, v)
	}
	n := d.uvarint()
	if n > 256 {
		return r, fmt.Errorf("%w: file name of %d bytes", errBadRecord, n)
	}
	r.File = string(d.bytes(int(n)))
	size := d.uvarint()
	if size > 1<<62 {
		return r, fmt.Errorf("%w: size %d", errBadRecord, size)
	}
	r.Size = int64(size)
	copy(r.SHA256[:], d.bytes(32))
	r.StoredAt = time.Unix(0, d.varint())
	r.Hits = d.uvarint()
	r.LastAccess = time.Unix(0, d.varint())
	r.Queue = queueID(d.byte())
	r.Freq = d.byte()
	r.Seq = d.uvarint()
	switch {
	case d.err != nil:
		return r, d.err
	case len(d.b) != 0:
		return r, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(d.b))
	case !validFileName(r.File):
		return r, fmt.Errorf("%w: file name %q", errBadRecord, r.File)
	case r.Queue != queueSmall && r.Queue != queueMain:
		return r, fmt.Errorf("%w: queue %d", errBadRecord, r.Queue)
	case r.Freq > maxFreq:
		return r, fmt.Errorf("%w: frequency %d", errBadRecord, r.Freq)
	}
	return r, nil
}

// validFileName reports whether name has the form "xx/<hex>-<hex>" with xx
// two lower-case hex digits, so an index record can never point outside Dir.
func validFileName(name string) bool {
	if len(name) < 6 || len(name) > 128 || name[2] != '/' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case i == 2:
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c == '-' && i > 3 && i < len(name)-1:
		default:
			return false
		}
	}
	return true
}

// decoder reads from b, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", errBadRecord, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("bytes")
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}
