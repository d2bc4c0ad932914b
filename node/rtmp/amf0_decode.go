package rtmp

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// amf0MaxDepth bounds the nesting of objects and arrays.
const amf0MaxDepth = 16

// maxAMFDateMs is the range of an ECMAScript date (AMF0 2.13).
const maxAMFDateMs = 8.64e15

// amf0Decode decodes every value in b. Memory is bounded by len(b): no
// count or length from the input is trusted for an allocation.
func amf0Decode(b []byte) ([]any, error) {
	d := amfDecoder{b: b}
	var vals []any
	for d.pos < len(d.b) {
		v, err := d.value(0)
		if err != nil {
			return vals, err
		}
		vals = append(vals, v)
	}
	return vals, nil
}

type amfDecoder struct {
	b   []byte
	pos int
}

func (d *amfDecoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w: amf0 at byte %d: %s", ErrProtocol, d.pos, fmt.Sprintf(format, args...))
}

func (d *amfDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.pos {
		return nil, d.fail("truncated (need %d bytes)", n)
	}
	p := d.b[d.pos : d.pos+n]
	d.pos += n
	return p, nil
}

func (d *amfDecoder) u16() (int, error) {
	p, err := d.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(p)), nil
}

func (d *amfDecoder) u32() (uint32, error) {
	p, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(p), nil
}

func (d *amfDecoder) float() (float64, error) {
	p, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.BigEndian.Uint64(p)), nil
}

// str reads a string with a 16-bit (long=false) or 32-bit length.
func (d *amfDecoder) str(long bool) (string, error) {
	var n int
	if long {
		v, err := d.u32()
		if err != nil {
			return "", err
		}
		n = int(min(v, math.MaxInt32))
	} else {
		v, err := d.u16()
		if err != nil {
			return "", err
		}
		n = v
	}
	p, err := d.take(n)
	return string(p), err
}

// value decodes one value; depth counts the enclosing containers.
func (d *amfDecoder) value(depth int) (any, error) {
	p, err := d.take(1)
	if err != nil {
		return nil, err
	}
	switch marker := p[0]; marker {
	case amfNumber:
		return d.float()
	case amfBoolean:
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case amfString, amfLongString:
		return d.str(marker == amfLongString)
	case amfXMLDocument:
		s, err := d.str(true)
		return amfXML(s), err
	case amfNull:
		return nil, nil
	case amfUndefined, amfUnsupported:
		return amfUndef{}, nil
	case amfDate:
		return d.date()
	case amfObject, amfTypedObject, amfECMAArray, amfStrictArray:
		if depth >= amf0MaxDepth {
			return nil, d.fail("nesting deeper than %d", amf0MaxDepth)
		}
		return d.container(marker, depth+1)
	}
	d.pos--
	return nil, d.fail("unsupported marker 0x%02x", p[0])
}

func (d *amfDecoder) date() (any, error) {
	ms, err := d.float()
	if err != nil {
		return nil, err
	}
	if _, err := d.take(2); err != nil { // time zone, reserved
		return nil, err
	}
	if math.IsNaN(ms) || math.Abs(ms) > maxAMFDateMs {
		return nil, d.fail("date %v out of range", ms)
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

func (d *amfDecoder) container(marker byte, depth int) (any, error) {
	switch marker {
	case amfObject:
		props, err := d.props(depth)
		return amfObj(props), err
	case amfTypedObject:
		if _, err := d.str(false); err != nil { // class name
			return nil, err
		}
		props, err := d.props(depth)
		return amfObj(props), err
	case amfECMAArray:
		if _, err := d.u32(); err != nil { // a count hint only
			return nil, err
		}
		props, err := d.props(depth)
		return amfECMA(props), err
	}
	n, err := d.u32()
	if err != nil {
		return nil, err
	}
	if int64(n) > int64(len(d.b)-d.pos) { // every value takes a byte at least
		return nil, d.fail("strict array of %d values in %d bytes", n, len(d.b)-d.pos)
	}
	arr := make([]any, 0, n)
	for range n {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	return arr, nil
}

// props reads properties up to and including the object end marker.
func (d *amfDecoder) props(depth int) ([]amfProp, error) {
	props := []amfProp{}
	for {
		key, err := d.str(false)
		if err != nil {
			return nil, err
		}
		if key == "" && d.pos < len(d.b) && d.b[d.pos] == amfObjectEnd {
			d.pos++
			return props, nil
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		props = append(props, amfProp{Key: key, Value: v})
	}
}
