package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Read limits. They bound what ReadFile allocates for a single box; the
// sample tables themselves are bounded by the bytes that describe them and
// by the file size (see DESIGN.md).
const (
	// MaxMoovSize is the largest moov box ReadFile accepts (512 MiB). A
	// two-hour 60 fps video has a moov of a few megabytes; 50 MB moov boxes
	// of very long recordings are read fine.
	MaxMoovSize = 512 << 20
	// MaxMoofSize is the largest moof box ReadFile accepts (64 MiB).
	MaxMoofSize = 64 << 20
)

// span is the position of a top-level box in the file.
type span struct {
	off, size int64
	hdr       int
}

// topLevel is what the walk over top-level box headers found.
type topLevel struct {
	majorBrand string
	moov       *span
	moofs      []span
}

// ReadFile parses the ISO-BMFF file of the given size behind r. It reads the
// top-level box headers, the first bytes of ftyp, the whole moov and every
// moof, but never the media data. Errors wrap ErrMalformed, ErrUnsupported
// or ErrNoTracks, or are the ReaderAt's own I/O error.
func ReadFile(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: negative file size %d", ErrMalformed, size)
	}
	top, err := walkTop(r, size)
	if err != nil {
		return nil, err
	}
	if top.moov == nil {
		return nil, fmt.Errorf("%w: no moov box", ErrMalformed)
	}
	moov, err := readSpan(r, *top.moov, MaxMoovSize, "moov")
	if err != nil {
		return nil, err
	}
	mv, err := parseMoov(moov[top.moov.hdr:], size)
	if err != nil {
		return nil, err
	}
	f := &File{MajorBrand: top.majorBrand}
	for i, s := range top.moofs {
		raw, err := readSpan(r, s, MaxMoofSize, "moof")
		if err != nil {
			return nil, err
		}
		path := fmt.Sprintf("moof[%d]@%d", i, s.off)
		if err := mv.addMoof(raw[s.hdr:], s.off, size, path); err != nil {
			return nil, err
		}
		f.Fragmented = true
	}
	if err := mv.finish(); err != nil {
		return nil, err
	}
	f.Tracks = mv.tracks()
	return f, nil
}

// walkTop reads the header of every top-level box.
func walkTop(r io.ReaderAt, size int64) (*topLevel, error) {
	top := &topLevel{}
	for off := int64(0); off < size; {
		hb, err := readHeader(r, off, size)
		if err != nil {
			return nil, err
		}
		s, typ, err := topHeader(hb, off, size)
		if err != nil {
			return nil, err
		}
		if err := top.note(r, typ, s); err != nil {
			return nil, err
		}
		off += s.size
	}
	return top, nil
}

// readHeader reads the 8-byte header at off and, for a largesize box, the
// 8 bytes after it, so that no byte of a box body is read needlessly.
func readHeader(r io.ReaderAt, off, size int64) ([]byte, error) {
	var hb [16]byte
	n := min(int64(8), size-off)
	if err := readFull(r, hb[:n], off); err != nil {
		return nil, err
	}
	if n < 8 || binary.BigEndian.Uint32(hb[:]) != 1 {
		return hb[:n], nil
	}
	n = min(int64(16), size-off)
	if err := readFull(r, hb[8:n], off+8); err != nil {
		return nil, err
	}
	return hb[:n], nil
}

// note records one top-level box.
func (top *topLevel) note(r io.ReaderAt, typ string, s span) error {
	switch typ {
	case "ftyp":
		if top.majorBrand != "" || s.size-int64(s.hdr) < 4 {
			return nil
		}
		var b [4]byte
		if err := readFull(r, b[:], s.off+int64(s.hdr)); err != nil {
			return err
		}
		top.majorBrand = fourCC(b[:])
	case "moov":
		if top.moov != nil {
			return fmt.Errorf("%w: second moov box at offset %d", ErrMalformed, s.off)
		}
		top.moov = &s
	case "moof":
		top.moofs = append(top.moofs, s)
	}
	return nil
}

// topHeader decodes a top-level box header found at off.
func topHeader(b []byte, off, fileSize int64) (span, string, error) {
	if len(b) < 8 {
		return span{}, "", fmt.Errorf("%w: %d trailing bytes at offset %d are not a box", ErrMalformed, len(b), off)
	}
	typ := fourCC(b[4:8])
	s := span{off: off, size: int64(binary.BigEndian.Uint32(b)), hdr: 8}
	switch s.size {
	case 0:
		s.size = fileSize - off
	case 1:
		if len(b) < 16 {
			return span{}, "", fmt.Errorf("%w: box %q at offset %d: largesize header truncated", ErrMalformed, typ, off)
		}
		large := binary.BigEndian.Uint64(b[8:])
		if large > uint64(fileSize) {
			return span{}, "", fmt.Errorf("%w: box %q at offset %d: size %d runs past end of file (%d bytes)", ErrMalformed, typ, off, large, fileSize)
		}
		s.size, s.hdr = int64(large), 16
	}
	if s.size < int64(s.hdr) {
		return span{}, "", fmt.Errorf("%w: box %q at offset %d: size %d smaller than its header", ErrMalformed, typ, off, s.size)
	}
	if s.size > fileSize-off {
		return span{}, "", fmt.Errorf("%w: box %q at offset %d: size %d runs past end of file (%d bytes)", ErrMalformed, typ, off, s.size, fileSize)
	}
	return s, typ, nil
}

// readSpan reads a whole top-level box with a single ReadAt.
func readSpan(r io.ReaderAt, s span, limit int64, name string) ([]byte, error) {
	if s.size > limit {
		return nil, fmt.Errorf("%w: %s box at offset %d is %d bytes, limit %d", ErrUnsupported, name, s.off, s.size, limit)
	}
	buf := make([]byte, s.size)
	if err := readFull(r, buf, s.off); err != nil {
		return nil, err
	}
	return buf, nil
}

// readFull fills b from off, treating a short read as malformed (the file is
// shorter than the size the caller was given).
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: short read at offset %d: got %d of %d bytes", ErrMalformed, off, n, len(b))
	}
	return fmt.Errorf("mp4: read at offset %d: %w", off, err)
}
