package rtmp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Message type ids (RTMP 1.0 sections 5.4, 6.2 and 7.1).
const (
	typeSetChunkSize     = 1
	typeAbort            = 2
	typeAck              = 3
	typeUserControl      = 4
	typeWindowAckSize    = 5
	typeSetPeerBandwidth = 6
	typeAudio            = 8
	typeVideo            = 9
	typeDataAMF3         = 15
	typeSharedObjectAMF3 = 16
	typeCommandAMF3      = 17
	typeDataAMF0         = 18
	typeSharedObjectAMF0 = 19
	typeCommandAMF0      = 20
	typeAggregate        = 22
)

// Chunk stream ids the server writes on.
const (
	csidControl = 2 // protocol control and user control messages
	csidCommand = 3 // commands on message stream 0
	csidStream  = 5 // commands on a publishing message stream
	maxCSID     = 65599
)

// message is one reassembled RTMP message.
type message struct {
	csid      uint32
	typ       uint8
	streamID  uint32
	timestamp uint32 // ms, wraps at 2^32
	payload   []byte
}

// chunkStream is the reader's state for one chunk stream id: the header
// values later chunks inherit and the message being reassembled.
type chunkStream struct {
	timestamp uint32 // of the current or last message
	tsField   uint32 // last timestamp or delta field, after extension
	extended  bool   // the last timestamp field was 0xFFFFFF
	length    uint32
	typ       uint8
	streamID  uint32
	inMsg     bool
	buf       []byte
}

// chunkReader reassembles messages from a chunk stream (RTMP 1.0 5.3).
// It handles Set Chunk Size and Abort itself.
type chunkReader struct {
	r           *bufio.Reader
	chunkSize   uint32
	maxChunk    uint32
	maxMsg      uint32
	maxStreams  int
	maxBuffered int
	buffered    int // payload bytes of partial messages
	streams     map[uint32]*chunkStream
}

// readerLimits bounds what a chunkReader accepts.
type readerLimits struct {
	maxChunk, maxMsg, maxStreams int
}

func newChunkReader(r *bufio.Reader, l readerLimits) *chunkReader {
	return &chunkReader{
		r:           r,
		chunkSize:   128,
		maxChunk:    uint32(l.maxChunk),
		maxMsg:      uint32(l.maxMsg),
		maxStreams:  l.maxStreams,
		maxBuffered: 2 * l.maxMsg,
		streams:     map[uint32]*chunkStream{},
	}
}

// readMessage returns the next complete message other than Set Chunk Size
// and Abort. io.EOF means the peer closed between messages.
func (cr *chunkReader) readMessage() (message, error) {
	for {
		m, done, err := cr.readChunk()
		if err != nil {
			return message{}, err
		}
		if !done {
			continue
		}
		switch m.typ {
		case typeSetChunkSize:
			if err := cr.setChunkSize(m.payload); err != nil {
				return message{}, err
			}
		case typeAbort:
			if len(m.payload) < 4 {
				return message{}, fmt.Errorf("%w: short Abort message", ErrProtocol)
			}
			if cs := cr.streams[u32(m.payload)]; cs != nil && cs.inMsg {
				cr.drop(cs)
			}
		default:
			return m, nil
		}
	}
}

func (cr *chunkReader) setChunkSize(p []byte) error {
	if len(p) < 4 {
		return fmt.Errorf("%w: short Set Chunk Size message", ErrProtocol)
	}
	size := u32(p)
	if size == 0 || size > 0x7FFFFFFF {
		return fmt.Errorf("%w: invalid chunk size %d", ErrProtocol, size)
	}
	size = min(size, maxMessageLen) // larger sizes are all the same
	if size > cr.maxChunk {
		return fmt.Errorf("%w: chunk size %d exceeds MaxChunkSize %d", ErrLimit, size, cr.maxChunk)
	}
	cr.chunkSize = size
	return nil
}

// readChunk reads one chunk; done reports that it completed a message.
func (cr *chunkReader) readChunk() (m message, done bool, err error) {
	b0, err := cr.r.ReadByte()
	if err != nil {
		if err == io.EOF && cr.buffered > 0 {
			err = io.ErrUnexpectedEOF
		}
		return m, false, err
	}
	fmtID := b0 >> 6
	csid, err := cr.readCSID(b0 & 0x3f)
	if err != nil {
		return m, false, err
	}
	cs, err := cr.stream(csid, fmtID)
	if err != nil {
		return m, false, err
	}
	if err := cr.readHeader(cs, fmtID); err != nil {
		return m, false, err
	}
	return cr.readPayload(cs, csid)
}

func (cr *chunkReader) readCSID(low byte) (uint32, error) {
	switch low {
	case 0:
		b, err := cr.r.ReadByte()
		return 64 + uint32(b), noEOF(err)
	case 1:
		var b [2]byte
		_, err := io.ReadFull(cr.r, b[:])
		return 64 + uint32(b[0]) + uint32(b[1])<<8, noEOF(err)
	}
	return uint32(low), nil
}

// stream returns the state of csid, creating it for a first chunk.
func (cr *chunkReader) stream(csid uint32, fmtID byte) (*chunkStream, error) {
	if cs := cr.streams[csid]; cs != nil {
		return cs, nil
	}
	if fmtID > 1 {
		return nil, fmt.Errorf("%w: chunk stream %d starts with a type %d header", ErrProtocol, csid, fmtID)
	}
	if len(cr.streams) >= cr.maxStreams {
		return nil, fmt.Errorf("%w: more than %d chunk streams", ErrLimit, cr.maxStreams)
	}
	cs := &chunkStream{}
	cr.streams[csid] = cs
	return cs, nil
}

// headerLen is the message header length by chunk type (RTMP 1.0 5.3.1.2).
var headerLen = [4]int{11, 7, 3, 0}

// readHeader reads the message header of a chunk of type fmtID and, when
// the chunk starts a message, prepares the buffer.
func (cr *chunkReader) readHeader(cs *chunkStream, fmtID byte) error {
	var h [11]byte
	if _, err := io.ReadFull(cr.r, h[:headerLen[fmtID]]); err != nil {
		return noEOF(err)
	}
	if fmtID == 3 {
		return cr.readType3(cs)
	}
	if cs.inMsg { // a new header abandons the partial message
		cr.drop(cs)
	}
	field := u24(h[:])
	if fmtID <= 1 {
		cs.length, cs.typ = u24(h[3:]), h[6]
	}
	if fmtID == 0 {
		cs.streamID = binary.LittleEndian.Uint32(h[7:])
	}
	cs.extended = field == 0xFFFFFF
	if cs.extended {
		var err error
		if field, err = cr.readU32(); err != nil {
			return err
		}
	}
	cs.tsField = field
	if fmtID == 0 {
		cs.timestamp = field
	} else {
		cs.timestamp += field
	}
	return cr.startMessage(cs)
}

// readType3 handles a chunk without message header: either the next chunk
// of the current message or a new message repeating the previous header.
func (cr *chunkReader) readType3(cs *chunkStream) error {
	if cs.inMsg {
		if cs.extended {
			return cr.skipRepeatedTimestamp(cs)
		}
		return nil
	}
	if cs.extended {
		field, err := cr.readU32()
		if err != nil {
			return err
		}
		cs.tsField = field
	}
	cs.timestamp += cs.tsField
	return cr.startMessage(cs)
}

// skipRepeatedTimestamp consumes the extended timestamp a continuation
// chunk carries. The specification has writers repeat it, but not all do:
// it is consumed only when it matches the header's field or the message's
// timestamp, otherwise the bytes are payload.
func (cr *chunkReader) skipRepeatedTimestamp(cs *chunkStream) error {
	b, err := cr.r.Peek(4)
	if err != nil {
		if len(b) < 4 && errors.Is(err, io.EOF) {
			return nil // the payload read will report it
		}
		return noEOF(err)
	}
	if v := u32(b); v == cs.tsField || v == cs.timestamp {
		_, err = cr.r.Discard(4)
	}
	return err
}

func (cr *chunkReader) startMessage(cs *chunkStream) error {
	if cs.length > cr.maxMsg {
		return fmt.Errorf("%w: message of %d bytes exceeds MaxMessageSize %d", ErrLimit, cs.length, cr.maxMsg)
	}
	cs.inMsg = true
	cs.buf = nil // allocated as chunks arrive
	return nil
}

// readPayload reads the chunk's share of the message body.
func (cr *chunkReader) readPayload(cs *chunkStream, csid uint32) (message, bool, error) {
	n := int(min(cr.chunkSize, cs.length-uint32(len(cs.buf))))
	if cr.buffered+n > cr.maxBuffered {
		return message{}, false, fmt.Errorf("%w: more than %d bytes of partial messages", ErrLimit, cr.maxBuffered)
	}
	start := len(cs.buf)
	cs.buf = growMessage(cs.buf, n, int(cs.length))[:start+n]
	if _, err := io.ReadFull(cr.r, cs.buf[start:]); err != nil {
		return message{}, false, noEOF(err)
	}
	cr.buffered += n
	if uint32(len(cs.buf)) < cs.length {
		return message{}, false, nil
	}
	m := message{csid: csid, typ: cs.typ, streamID: cs.streamID, timestamp: cs.timestamp, payload: cs.buf}
	cr.buffered -= len(cs.buf)
	cs.buf, cs.inMsg = nil, false
	return m, true, nil
}

// growMessage makes room for n more bytes of a message of length total.
// Capacity at least doubles, so a message costs few copies, and never
// exceeds twice what was received, so announced lengths cost nothing.
func growMessage(b []byte, n, total int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), min(max(len(b)+n, 2*cap(b)), total))
	copy(nb, b)
	return nb
}

// drop discards the partial message of cs.
func (cr *chunkReader) drop(cs *chunkStream) {
	cr.buffered -= len(cs.buf)
	cs.buf, cs.inMsg = nil, false
}

func (cr *chunkReader) readU32() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(cr.r, b[:]); err != nil {
		return 0, noEOF(err)
	}
	return u32(b[:]), nil
}

// noEOF turns io.EOF inside a chunk into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
