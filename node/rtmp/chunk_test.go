package rtmp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// errPartialLimit stands for the limit on bytes of partial messages.
var errPartialLimit = errors.New("partial limit")

var testLimits = readerLimits{maxChunk: maxMessageLen, maxMsg: 1 << 20, maxStreams: 8}

func readAll(t *testing.T, b []byte, l readerLimits) ([]message, error) {
	t.Helper()
	cr := newChunkReader(bufio.NewReader(bytes.NewReader(b)), l)
	var out []message
	for {
		m, err := cr.readMessage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// setChunkSizeMsg is what a writer sends before changing its chunk size.
func setChunkSizeMsg(n uint32) message {
	var b [4]byte
	putU32(b[:], n)
	return message{csid: 2, typ: typeSetChunkSize, payload: b[:]}
}

func TestChunkRoundTrip(t *testing.T) {
	type step struct {
		m         message
		chunkSize uint32 // when set, change the chunk size before m
	}
	msg := func(csid uint32, ts uint32, n int) step {
		return step{m: message{csid: csid, typ: typeVideo, streamID: 1, timestamp: ts, payload: payload(n, byte(ts))}}
	}
	size := func(n uint32) step { return step{chunkSize: n} }
	cases := []struct {
		name  string
		steps []step
	}{
		{"single chunk", []step{msg(4, 0, 10), msg(4, 40, 10)}},
		{"multi chunk", []step{msg(4, 0, 1000), msg(4, 33, 129), msg(4, 66, 128), msg(4, 99, 127)}},
		{"zero length", []step{msg(4, 0, 0), msg(4, 10, 0), msg(4, 20, 5)}},
		{"constant deltas use type 3", []step{msg(4, 0, 300), msg(4, 40, 300), msg(4, 80, 300), msg(4, 120, 300)}},
		{"length changes use type 1", []step{msg(4, 0, 300), msg(4, 40, 20), msg(4, 80, 700)}},
		{"extended timestamps", []step{msg(4, 0xFFFFFE, 300), msg(4, 0xFFFFFF, 300), msg(4, 0x1000000, 300),
			msg(4, 0xFFFFFFF0, 500), msg(4, 0xFFFFFFFF, 10)}},
		{"extended deltas", []step{msg(4, 0, 300), msg(4, 0x1000000, 300), msg(4, 0x2000000, 300),
			msg(4, 0x3000000, 300), msg(4, 0x3000010, 300)}},
		{"timestamp going back uses type 0", []step{msg(4, 1000, 10), msg(4, 500, 10)}},
		{"two and three byte chunk stream ids", []step{msg(63, 1, 200), msg(64, 2, 200), msg(319, 3, 200),
			msg(320, 4, 200), msg(65599, 5, 200), msg(63, 6, 200), msg(65599, 7, 200)}},
		{"chunk size changes", []step{msg(4, 0, 1000), size(300), msg(4, 10, 1000), size(1), msg(4, 20, 7),
			size(65536), msg(4, 30, 200000), size(0x7FFFFFFF), msg(4, 40, 70000)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			cw := newChunkWriter(bufio.NewWriter(&buf))
			var want []message
			for _, s := range tc.steps {
				if s.chunkSize != 0 {
					if err := cw.writeMessage(setChunkSizeMsg(s.chunkSize)); err != nil {
						t.Fatal(err)
					}
					cw.setChunkSize(min(s.chunkSize, maxMessageLen))
					continue
				}
				if err := cw.writeMessage(s.m); err != nil {
					t.Fatal(err)
				}
				want = append(want, s.m)
			}
			cw.flush()
			got, err := readAll(t, buf.Bytes(), testLimits)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d messages, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) && !(len(got[i].payload) == 0 && len(want[i].payload) == 0) {
					t.Fatalf("message %d: got %+v, want %+v", i, hdrOf(got[i]), hdrOf(want[i]))
				}
			}
		})
	}
}

func hdrOf(m message) message { m.payload = m.payload[:min(len(m.payload), 8)]; return m }

// Hand-made chunks for what the writer never produces.
func chunk0(csid byte, ts, length uint32, typ byte, sid uint32) []byte {
	b := []byte{csid, 0, 0, 0, 0, 0, 0, typ, byte(sid), byte(sid >> 8), byte(sid >> 16), byte(sid >> 24)}
	putU24(b[1:], min(ts, 0xFFFFFF))
	putU24(b[4:], length)
	if ts >= 0xFFFFFF {
		b = append(b, byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts))
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestChunkReaderCases(t *testing.T) {
	p := payload(300, 1)
	q := payload(200, 9)
	ext := []byte{0x01, 0x00, 0x00, 0x00} // 0x01000000
	cases := []struct {
		name    string
		in      []byte
		limits  readerLimits
		want    []message // compared by type, csid, timestamp, payload
		wantErr error
	}{
		{"interleaved chunk streams", cat(chunk0(4, 10, 300, 9, 1), p[:128], chunk0(5, 20, 200, 8, 1), q[:128],
			[]byte{0xc4}, p[128:256], []byte{0xc5}, q[128:], []byte{0xc4}, p[256:]), testLimits,
			[]message{{csid: 5, typ: 8, timestamp: 20, payload: q}, {csid: 4, typ: 9, timestamp: 10, payload: p}}, nil},
		{"abort drops the partial message", cat(chunk0(4, 10, 300, 9, 1), p[:128],
			chunk0(2, 0, 4, typeAbort, 0), []byte{0, 0, 0, 4}, chunk0(4, 30, 200, 9, 1), q[:128], []byte{0xc4}, q[128:]),
			testLimits, []message{{csid: 4, typ: 9, timestamp: 30, payload: q}}, nil},
		{"continuation repeats the extended timestamp", cat(chunk0(4, 0x01000000, 300, 9, 1), p[:128],
			[]byte{0xc4}, ext, p[128:256], []byte{0xc4}, ext, p[256:]), testLimits,
			[]message{{csid: 4, typ: 9, timestamp: 0x01000000, payload: p}}, nil},
		{"continuation without the extended timestamp", cat(chunk0(4, 0x01000000, 300, 9, 1), p[:128],
			[]byte{0xc4}, p[128:256], []byte{0xc4}, p[256:]), testLimits,
			[]message{{csid: 4, typ: 9, timestamp: 0x01000000, payload: p}}, nil},
		{"type 3 after type 0 adds the timestamp field", cat(chunk0(4, 100, 2, 9, 1), []byte{1, 2},
			[]byte{0xc4, 3, 4}), testLimits,
			[]message{{csid: 4, typ: 9, timestamp: 100, payload: []byte{1, 2}}, {csid: 4, typ: 9, timestamp: 200, payload: []byte{3, 4}}}, nil},
		{"type 1 first is accepted", cat([]byte{0x44, 0, 0, 5, 0, 0, 1, 9}, []byte{7}), testLimits,
			[]message{{csid: 4, typ: 9, timestamp: 5, payload: []byte{7}}}, nil},
		{"type 2 first", []byte{0x84, 0, 0, 5}, testLimits, nil, ErrProtocol},
		{"type 3 first", []byte{0xc4}, testLimits, nil, ErrProtocol},
		{"message too large", chunk0(4, 0, 1<<20+1, 9, 1), testLimits, nil, ErrLimit},
		{"chunk size 0", cat(chunk0(2, 0, 4, 1, 0), []byte{0, 0, 0, 0}), testLimits, nil, ErrProtocol},
		{"chunk size with the high bit", cat(chunk0(2, 0, 4, 1, 0), []byte{0x80, 0, 0, 0}), testLimits, nil, ErrProtocol},
		{"chunk size above the limit", cat(chunk0(2, 0, 4, 1, 0), []byte{0, 1, 0, 0}),
			readerLimits{maxChunk: 4096, maxMsg: 1 << 20, maxStreams: 8}, nil, ErrLimit},
		{"too many chunk streams", cat(chunk0(3, 0, 0, 9, 1), chunk0(4, 0, 0, 9, 1), chunk0(5, 0, 0, 9, 1)),
			readerLimits{maxChunk: 4096, maxMsg: 1 << 20, maxStreams: 2},
			[]message{{csid: 3, typ: 9}, {csid: 4, typ: 9}}, ErrLimit},
		{"partial messages beyond twice the message limit", cat(chunk0(2, 0, 4, 1, 0), []byte{0, 0, 0, 100},
			chunk0(3, 0, 150, 9, 1), p[:100], chunk0(4, 0, 150, 9, 1), p[:100], chunk0(5, 0, 150, 9, 1), p[:100],
			chunk0(6, 0, 150, 9, 1), p[:100]),
			readerLimits{maxChunk: 4096, maxMsg: 150, maxStreams: 8}, nil, errPartialLimit},
		{"eof inside a message", cat(chunk0(4, 0, 300, 9, 1), p[:128]), testLimits, nil, io.ErrUnexpectedEOF},
		{"eof inside a header", []byte{0x04, 0, 0}, testLimits, nil, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.in, tc.limits)
			if tc.wantErr == errPartialLimit {
				if err == nil || !strings.Contains(err.Error(), "partial messages") {
					t.Fatalf("err %v, want the partial message limit", err)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d messages, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.csid != w.csid || g.typ != w.typ || g.timestamp != w.timestamp || !bytes.Equal(g.payload, w.payload) {
					t.Errorf("message %d: got %+v, want %+v", i, hdrOf(g), hdrOf(w))
				}
			}
		})
	}
}

func TestPickFormat(t *testing.T) {
	prev := &writeState{timestamp: 100, tsField: 40, length: 10, typ: 9, streamID: 1}
	m := func(ts uint32, n int, typ uint8, sid uint32) message {
		return message{timestamp: ts, typ: typ, streamID: sid, payload: make([]byte, n)}
	}
	cases := []struct {
		name      string
		st        *writeState
		m         message
		wantFmt   byte
		wantField uint32
	}{
		{"first message", nil, m(5, 10, 9, 1), 0, 5},
		{"other stream", prev, m(140, 10, 9, 2), 0, 140},
		{"backwards", prev, m(99, 10, 9, 1), 0, 99},
		{"other length", prev, m(140, 11, 9, 1), 1, 40},
		{"other type", prev, m(140, 10, 8, 1), 1, 40},
		{"other delta", prev, m(141, 10, 9, 1), 2, 41},
		{"same delta", prev, m(140, 10, 9, 1), 3, 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, field := pickFormat(tc.st, tc.m, uint32(len(tc.m.payload)))
			if f != tc.wantFmt || field != tc.wantField {
				t.Fatalf("got fmt %d field %d, want %d %d", f, field, tc.wantFmt, tc.wantField)
			}
		})
	}
}
