package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/internal/frame"
	"github.com/classmesh/classmesh/internal/ident"
)

// RelayALPN is the ALPN of the live relay protocol.
const RelayALPN = "classmesh-relay/1"

// Wire format (RELAY.md has the full picture). Every relay stream starts
// with a request frame from the subscriber (magic "CMR\x01"):
//
//	kind u8 | token u64 | track str | npath u8 | path str...
//
// kind 1 (subscribe) opens the control stream of a subscription; kind 2
// (attach) parks a stream the server may use for one group. The server
// writes control frames (magic "CMr\x01") on the control stream:
//
//	kind u8 (1 reply, 2 end) | code u8 | streams u64 | message str
//
// and on a used group stream a group header followed by records:
//
//	"CMG\x01" | seq u64 | group u64
//	type u8 | length u32 | body     (type 1 object, 2 init)
//	object body: id u64 | created i64 (unix ns, 0 unknown) | hlen u16 |
//	             header | payload (the rest)
const (
	relayMaxPath      = 8  // nodes a subscription may pass
	relayGroupHdrLen  = 20 // magic + seq + group
	relayRecPrefixLen = 5  // type + length
	relayObjFixedLen  = 18 // id + created + hlen
)

var (
	magicRelayRequest = [4]byte{'C', 'M', 'R', 1}
	magicRelayControl = [4]byte{'C', 'M', 'r', 1}
	magicRelayGroup   = [4]byte{'C', 'M', 'G', 1}
)

// Request kinds.
const (
	relaySubscribe uint8 = 1
	relayAttach    uint8 = 2
)

// Control kinds.
const (
	relayReply uint8 = 1
	relayEnd   uint8 = 2
)

// Record types on a group stream.
const (
	relayRecObject uint8 = 1
	relayRecInit   uint8 = 2
)

// relayCode is the status of a reply or end frame.
type relayCode uint8

const (
	relayOK           relayCode = iota // subscribed
	relayNotFound                      // nobody on the way publishes the track
	relayEnded                         // the publisher closed the track
	relayBadRequest                    // malformed request, loop or too many hops
	relayUpstreamLost                  // the relay lost its own upstream
	relayGoingAway                     // the relay is closing
	relayCodeCount
)

// Stream error codes of the relay protocol.
const (
	codeRelayCanceled   quic.StreamErrorCode = 0x201 // subscriber left
	codeRelayTimeout    quic.StreamErrorCode = 0x202 // group exceeded the delivery timeout
	codeRelaySuperseded quic.StreamErrorCode = 0x203 // newer groups exist
	codeRelayEvicted    quic.StreamErrorCode = 0x204 // group left the cache
	codeRelayRefused    quic.StreamErrorCode = 0x205 // attach without subscription, malformed
)

// relayRequest is the first frame of every relay stream.
type relayRequest struct {
	Kind  uint8
	Token uint64
	Track string   // subscribe only
	Path  []string // subscribe only: node IDs passed, subscriber first
}

func (r relayRequest) validate() error {
	switch r.Kind {
	case relaySubscribe:
		if r.Track == "" || len(r.Track) > RelayMaxTrack || !frame.Printable(r.Track) {
			return fmt.Errorf("%w: bad track", frame.ErrMalformed)
		}
		if len(r.Path) > relayMaxPath {
			return fmt.Errorf("%w: path of %d nodes", frame.ErrMalformed, len(r.Path))
		}
		for _, id := range r.Path {
			if !ident.ValidNode(id) {
				return fmt.Errorf("%w: bad node ID in path", frame.ErrMalformed)
			}
		}
	case relayAttach:
		if r.Track != "" || len(r.Path) != 0 {
			return fmt.Errorf("%w: attach with track or path", frame.ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: request kind %d", frame.ErrMalformed, r.Kind)
	}
	return nil
}

// MarshalBinary encodes the request as a frame.
func (r relayRequest) MarshalBinary() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	var e frame.Encoder
	e.U8(r.Kind)
	e.U64(r.Token)
	e.Str(r.Track)
	e.U8(uint8(len(r.Path)))
	for _, id := range r.Path {
		e.Str(id)
	}
	return e.Frame(magicRelayRequest)
}

// decodeRelayRequest reads one request frame.
func decodeRelayRequest(rd io.Reader) (relayRequest, error) {
	p, err := frame.Read(rd, magicRelayRequest)
	if err != nil {
		return relayRequest{}, err
	}
	d := frame.NewDecoder(p)
	r := relayRequest{Kind: d.U8(), Token: d.U64()}
	r.Track = d.Str("track", RelayMaxTrack)
	n := int(d.U8())
	if n > relayMaxPath {
		d.Fail("path of %d nodes", n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		r.Path = append(r.Path, d.Str("path", 64))
	}
	if err := d.End(); err != nil {
		return relayRequest{}, err
	}
	if err := r.validate(); err != nil {
		return relayRequest{}, err
	}
	return r, nil
}

// relayControl is a frame on the control stream.
type relayControl struct {
	Kind    uint8
	Code    relayCode
	Streams uint64 // end: group streams used by the subscription
	Message string
}

func (c relayControl) validate() error {
	switch {
	case c.Kind != relayReply && c.Kind != relayEnd:
		return fmt.Errorf("%w: control kind %d", frame.ErrMalformed, c.Kind)
	case c.Code >= relayCodeCount:
		return fmt.Errorf("%w: code %d", frame.ErrMalformed, c.Code)
	case len(c.Message) > frame.MaxMessage || !frame.Printable(c.Message):
		return fmt.Errorf("%w: message too long or not printable", frame.ErrMalformed)
	}
	return nil
}

// MarshalBinary encodes the control frame.
func (c relayControl) MarshalBinary() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	var e frame.Encoder
	e.U8(c.Kind)
	e.U8(uint8(c.Code))
	e.U64(c.Streams)
	e.Str(c.Message)
	return e.Frame(magicRelayControl)
}

// decodeRelayControl reads one control frame.
func decodeRelayControl(rd io.Reader) (relayControl, error) {
	p, err := frame.Read(rd, magicRelayControl)
	if err != nil {
		return relayControl{}, err
	}
	d := frame.NewDecoder(p)
	c := relayControl{Kind: d.U8(), Code: relayCode(d.U8()), Streams: d.U64()}
	c.Message = d.Str("message", frame.MaxMessage)
	if err := d.End(); err != nil {
		return relayControl{}, err
	}
	if err := c.validate(); err != nil {
		return relayControl{}, err
	}
	return c, nil
}

// appendRelayGroupHeader appends the header of a group stream.
func appendRelayGroupHeader(b []byte, seq, group uint64) []byte {
	b = append(b, magicRelayGroup[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	return binary.BigEndian.AppendUint64(b, group)
}

// decodeRelayGroupHeader reads a group stream header. io.EOF means the
// stream ended before any byte.
func decodeRelayGroupHeader(rd io.Reader) (seq, group uint64, err error) {
	var b [relayGroupHdrLen]byte
	if _, err := io.ReadFull(rd, b[:]); err != nil {
		return 0, 0, err
	}
	if [4]byte(b[:4]) != magicRelayGroup {
		return 0, 0, fmt.Errorf("%w: bad group magic %q", frame.ErrMalformed, b[:4])
	}
	return binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:]), nil
}

// relayRecord is one record of a group stream.
type relayRecord struct {
	Type    uint8
	ID      uint64
	Created time.Time
	Header  []byte // object only
	Payload []byte // object payload or init data
}

// appendRelayRecordPrefix appends everything of rec but its payload,
// which the caller writes next (no copy of large payloads).
func appendRelayRecordPrefix(b []byte, rec *relayRecord) []byte {
	b = append(b, rec.Type)
	if rec.Type == relayRecInit {
		return binary.BigEndian.AppendUint32(b, uint32(len(rec.Payload)))
	}
	n := relayObjFixedLen + len(rec.Header) + len(rec.Payload)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint64(b, rec.ID)
	var ns int64
	if !rec.Created.IsZero() {
		ns = rec.Created.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(ns))
	b = binary.BigEndian.AppendUint16(b, uint16(len(rec.Header)))
	return append(b, rec.Header...)
}

// readRelayRecord reads one record of at most maxPayload payload bytes.
// io.EOF means the stream ended cleanly between records. The buffer is
// allocated only after the length passed the bounds.
func readRelayRecord(rd io.Reader, maxPayload int) (relayRecord, error) {
	var pre [relayRecPrefixLen]byte
	if _, err := io.ReadFull(rd, pre[:]); err != nil {
		return relayRecord{}, err
	}
	rec := relayRecord{Type: pre[0]}
	n := int64(binary.BigEndian.Uint32(pre[1:]))
	switch rec.Type {
	case relayRecInit:
		if n > int64(maxPayload) {
			return rec, fmt.Errorf("%w: init of %d bytes", frame.ErrMalformed, n)
		}
	case relayRecObject:
		if n < relayObjFixedLen || n > int64(relayObjFixedLen+RelayMaxHeader+maxPayload) {
			return rec, fmt.Errorf("%w: object record of %d bytes", frame.ErrMalformed, n)
		}
	default:
		return rec, fmt.Errorf("%w: record type %d", frame.ErrMalformed, rec.Type)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return rec, err
	}
	if rec.Type == relayRecInit {
		rec.Payload = body
		return rec, nil
	}
	return decodeRelayObjectBody(rec, body, maxPayload)
}

func decodeRelayObjectBody(rec relayRecord, body []byte, maxPayload int) (relayRecord, error) {
	rec.ID = binary.BigEndian.Uint64(body)
	if ns := int64(binary.BigEndian.Uint64(body[8:])); ns != 0 {
		rec.Created = time.Unix(0, ns)
	}
	hl := int(binary.BigEndian.Uint16(body[16:]))
	rest := body[relayObjFixedLen:]
	if hl > RelayMaxHeader || hl > len(rest) {
		return rec, fmt.Errorf("%w: object header of %d bytes", frame.ErrMalformed, hl)
	}
	if len(rest)-hl > maxPayload {
		return rec, fmt.Errorf("%w: payload of %d bytes", frame.ErrMalformed, len(rest)-hl)
	}
	rec.Header = rest[:hl:hl]
	rec.Payload = rest[hl:]
	return rec, nil
}
