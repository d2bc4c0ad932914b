package rtmp

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// AMF0 type markers (AMF0 specification 2.1).
const (
	amfNumber      = 0x00
	amfBoolean     = 0x01
	amfString      = 0x02
	amfObject      = 0x03
	amfMovieClip   = 0x04
	amfNull        = 0x05
	amfUndefined   = 0x06
	amfReference   = 0x07
	amfECMAArray   = 0x08
	amfObjectEnd   = 0x09
	amfStrictArray = 0x0A
	amfDate        = 0x0B
	amfLongString  = 0x0C
	amfUnsupported = 0x0D
	amfRecordSet   = 0x0E
	amfXMLDocument = 0x0F
	amfTypedObject = 0x10
	amfAVMPlus     = 0x11
)

// AMF0 values are Go values:
//
//	number            float64
//	boolean           bool
//	string, long str  string
//	XML document      amfXML
//	object            amfObj (typed objects too; the class name is dropped)
//	ECMA array        amfECMA
//	strict array      []any
//	date              time.Time (UTC; the time zone field is ignored)
//	null              nil
//	undefined         amfUndef{}
type (
	amfProp struct {
		Key   string
		Value any
	}
	amfObj   []amfProp
	amfECMA  []amfProp
	amfUndef struct{}
	amfXML   string
)

// get returns the value of key, or nil.
func (o amfObj) get(key string) any {
	for _, p := range o {
		if p.Key == key {
			return p.Value
		}
	}
	return nil
}

// str returns the string value of key, or "".
func (o amfObj) str(key string) string {
	s, _ := o.get(key).(string)
	return s
}

// amf0Append appends the AMF0 encoding of each value to b.
func amf0Append(b []byte, vals ...any) ([]byte, error) {
	for _, v := range vals {
		var err error
		if b, err = amf0AppendValue(b, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func amf0AppendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, amfNull), nil
	case amfUndef:
		return append(b, amfUndefined), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, amfNumber), math.Float64bits(v)), nil
	case int:
		return amf0AppendValue(b, float64(v))
	case uint32:
		return amf0AppendValue(b, float64(v))
	case bool:
		if v {
			return append(b, amfBoolean, 1), nil
		}
		return append(b, amfBoolean, 0), nil
	case string:
		if len(v) > math.MaxUint16 {
			b = binary.BigEndian.AppendUint32(append(b, amfLongString), uint32(len(v)))
			return append(b, v...), nil
		}
		return amf0AppendShortString(append(b, amfString), v)
	case amfXML:
		b = binary.BigEndian.AppendUint32(append(b, amfXMLDocument), uint32(len(v)))
		return append(b, v...), nil
	case amfObj:
		return amf0AppendProps(append(b, amfObject), v)
	case amfECMA:
		b = binary.BigEndian.AppendUint32(append(b, amfECMAArray), uint32(len(v)))
		return amf0AppendProps(b, v)
	case []any:
		b = binary.BigEndian.AppendUint32(append(b, amfStrictArray), uint32(len(v)))
		return amf0Append(b, v...)
	case time.Time:
		ms := float64(v.UnixMilli())
		b = binary.BigEndian.AppendUint64(append(b, amfDate), math.Float64bits(ms))
		return append(b, 0, 0), nil
	}
	return nil, fmt.Errorf("rtmp: amf0: cannot encode %T", v)
}

// amf0AppendShortString appends a UTF-8 string with a 16-bit length.
func amf0AppendShortString(b []byte, s string) ([]byte, error) {
	if len(s) > math.MaxUint16 {
		return nil, fmt.Errorf("rtmp: amf0: key of %d bytes is too long", len(s))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

// amf0AppendProps appends properties and the object end marker.
func amf0AppendProps(b []byte, props []amfProp) ([]byte, error) {
	var err error
	for _, p := range props {
		if b, err = amf0AppendShortString(b, p.Key); err != nil {
			return nil, err
		}
		if b, err = amf0AppendValue(b, p.Value); err != nil {
			return nil, err
		}
	}
	return append(b, 0, 0, amfObjectEnd), nil
}
