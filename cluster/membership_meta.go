package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// ErrBadMeta is wrapped by every node metadata decoding error.
var ErrBadMeta = errors.New("cluster: bad node metadata")

// metaVersion is the first byte of encoded metadata. Decoders ignore bytes
// after the known fields so later versions can append fields.
const metaVersion = 1

// Field bounds; with them an encoding is at most about 430 bytes, inside
// memberlist's 512-byte metadata limit.
const (
	maxMetaID      = 64
	maxMetaRegion  = 64
	maxMetaHTTP    = 160
	maxMetaQUIC    = 64
	maxMetaVersion = 48
	maxMetaSize    = 512
)

// leavingBit in the roles byte marks a node that is leaving gracefully.
const leavingBit = 0x80

// Role bits in the roles byte.
var roleBits = []struct {
	role Role
	bit  byte
}{{RoleEdge, 1}, {RoleOrigin, 2}, {RoleControl, 4}}

// nodeMeta is what a node gossips about itself.
type nodeMeta struct {
	ID       string
	Roles    []Role
	Region   string
	HTTPAddr string
	QUICAddr string
	Version  string
	Load     Load
	Leaving  bool // set by Leave before the leave broadcast
}

// encodeMeta encodes m compactly, truncating long fields:
//
//	version u8 | flags u8 (role bits, 0x80 = leaving) | id | region | http | quic | version-string |
//	egress uvarint | capacity uvarint | fullness u16 (x/65535)
//
// where each string is "uvarint length | UTF-8 bytes".
func encodeMeta(m nodeMeta) []byte {
	b := make([]byte, 0, 128)
	b = append(b, metaVersion)
	var roles byte
	for _, rb := range roleBits {
		for _, r := range m.Roles {
			if r == rb.role {
				roles |= rb.bit
			}
		}
	}
	if m.Leaving {
		roles |= leavingBit
	}
	b = append(b, roles)
	for _, f := range []struct {
		s   string
		max int
	}{{m.ID, maxMetaID}, {m.Region, maxMetaRegion}, {m.HTTPAddr, maxMetaHTTP}, {m.QUICAddr, maxMetaQUIC}, {m.Version, maxMetaVersion}} {
		s := truncUTF8(strings.ToValidUTF8(f.s, "?"), f.max)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, m.Load.EgressBPS)
	b = binary.AppendUvarint(b, m.Load.CapacityBPS)
	return binary.BigEndian.AppendUint16(b, fullnessToU16(m.Load.CacheFullness))
}

// decodeMeta decodes metadata written by encodeMeta, defensively.
func decodeMeta(b []byte) (nodeMeta, error) {
	var m nodeMeta
	if len(b) > maxMetaSize {
		return m, fmt.Errorf("%w: %d bytes", ErrBadMeta, len(b))
	}
	if len(b) < 2 {
		return m, fmt.Errorf("%w: short", ErrBadMeta)
	}
	if b[0] != metaVersion {
		return m, fmt.Errorf("%w: version %d", ErrBadMeta, b[0])
	}
	for _, rb := range roleBits {
		if b[1]&rb.bit != 0 {
			m.Roles = append(m.Roles, rb.role)
		}
	}
	m.Leaving = b[1]&leavingBit != 0
	r := metaReader{b: b[2:]}
	m.ID = r.str(maxMetaID)
	m.Region = r.str(maxMetaRegion)
	m.HTTPAddr = r.str(maxMetaHTTP)
	m.QUICAddr = r.str(maxMetaQUIC)
	m.Version = r.str(maxMetaVersion)
	m.Load.EgressBPS = r.uvarint()
	m.Load.CapacityBPS = r.uvarint()
	m.Load.CacheFullness = float32(r.u16()) / math.MaxUint16
	if r.err != nil {
		return nodeMeta{}, r.err
	}
	return m, nil
}

// metaReader reads fields and remembers the first error.
type metaReader struct {
	b   []byte
	err error
}

func (r *metaReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrBadMeta)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) str(limit int) string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: string of %d bytes", ErrBadMeta, n)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	if !utf8.ValidString(s) {
		r.err = fmt.Errorf("%w: invalid UTF-8", ErrBadMeta)
		return ""
	}
	return s
}

func (r *metaReader) u16() uint16 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 2 {
		r.err = fmt.Errorf("%w: short load", ErrBadMeta)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

// fullnessToU16 maps 0..1 (clamped; NaN = 0) to 0..65535.
func fullnessToU16(f float32) uint16 {
	switch {
	case !(f > 0):
		return 0
	case f >= 1:
		return math.MaxUint16
	}
	return uint16(math.Round(float64(f) * math.MaxUint16))
}

// truncUTF8 cuts s to at most n bytes without splitting a rune.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
