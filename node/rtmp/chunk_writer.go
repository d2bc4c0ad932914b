package rtmp

import (
	"bufio"
	"encoding/binary"
	"fmt"
)

// writeState is what the writer last sent on one chunk stream id.
type writeState struct {
	timestamp uint32
	tsField   uint32
	length    uint32
	typ       uint8
	streamID  uint32
}

// chunkWriter splits messages into chunks, compressing headers the way
// chunkReader expands them: type 1 when only the stream id repeats, type 2
// when the length and type repeat as well, type 3 when the delta repeats
// too. It is not safe for concurrent use.
type chunkWriter struct {
	w         *bufio.Writer
	chunkSize uint32
	streams   map[uint32]*writeState
	hdr       [18]byte
}

func newChunkWriter(w *bufio.Writer) *chunkWriter {
	return &chunkWriter{w: w, chunkSize: 128, streams: map[uint32]*writeState{}}
}

// setChunkSize changes the size used for later messages; the caller sends
// the Set Chunk Size message first.
func (cw *chunkWriter) setChunkSize(n uint32) { cw.chunkSize = n }

// writeMessage buffers m as chunks; the caller flushes.
func (cw *chunkWriter) writeMessage(m message) error {
	if m.csid < 2 || m.csid > maxCSID {
		return fmt.Errorf("rtmp: chunk stream id %d out of range", m.csid)
	}
	if len(m.payload) > maxMessageLen {
		return fmt.Errorf("rtmp: message of %d bytes is too long", len(m.payload))
	}
	length := uint32(len(m.payload))
	st := cw.streams[m.csid]
	fmtID, field := pickFormat(st, m, length)
	ext := field >= 0xFFFFFF
	h := cw.basicHeader(cw.hdr[:0], fmtID, m.csid)
	var mh [11]byte
	putU24(mh[0:], min(field, 0xFFFFFF))
	putU24(mh[3:], length)
	mh[6] = m.typ
	binary.LittleEndian.PutUint32(mh[7:], m.streamID)
	h = append(h, mh[:headerLen[fmtID]]...)
	if ext {
		h = binary.BigEndian.AppendUint32(h, field)
	}
	if _, err := cw.w.Write(h); err != nil {
		return err
	}
	if st == nil {
		st = &writeState{}
		cw.streams[m.csid] = st
	}
	*st = writeState{timestamp: m.timestamp, tsField: field, length: length, typ: m.typ, streamID: m.streamID}
	return cw.writeBody(m, field, ext)
}

func (cw *chunkWriter) writeBody(m message, field uint32, ext bool) error {
	p := m.payload
	for {
		n := min(uint32(len(p)), cw.chunkSize)
		if _, err := cw.w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
		h := cw.basicHeader(cw.hdr[:0], 3, m.csid)
		if ext {
			h = binary.BigEndian.AppendUint32(h, field)
		}
		if _, err := cw.w.Write(h); err != nil {
			return err
		}
	}
}

// pickFormat chooses the chunk type for the first chunk of m and the value
// of its timestamp field.
func pickFormat(st *writeState, m message, length uint32) (byte, uint32) {
	if st == nil || m.streamID != st.streamID || m.timestamp < st.timestamp {
		return 0, m.timestamp
	}
	delta := m.timestamp - st.timestamp
	switch {
	case length != st.length || m.typ != st.typ:
		return 1, delta
	case delta != st.tsField:
		return 2, delta
	}
	return 3, delta
}

// basicHeader appends the basic header (RTMP 1.0 5.3.1.1).
func (cw *chunkWriter) basicHeader(b []byte, fmtID byte, csid uint32) []byte {
	switch {
	case csid < 64:
		return append(b, fmtID<<6|byte(csid))
	case csid < 64+256:
		return append(b, fmtID<<6, byte(csid-64))
	}
	v := csid - 64
	return append(b, fmtID<<6|1, byte(v), byte(v>>8))
}

// flush writes the buffered chunks.
func (cw *chunkWriter) flush() error { return cw.w.Flush() }
