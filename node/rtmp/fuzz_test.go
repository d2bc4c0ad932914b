package rtmp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// sessionBytes is what a publisher sends after the handshake: connect,
// createStream, publish, configs, frames, unpublish. media replaces the
// video frame body.
func sessionBytes(tb testing.TB, chunkSize uint32, media []byte) []byte {
	var buf bytes.Buffer
	cw := newChunkWriter(bufio.NewWriter(&buf))
	cmd := func(sid uint32, vals ...any) message {
		b, err := amf0Append(nil, vals...)
		if err != nil {
			tb.Fatal(err)
		}
		return message{csid: 3, typ: typeCommandAMF0, streamID: sid, payload: b}
	}
	meta, _ := amf0Append(nil, "@setDataFrame", "onMetaData", amfECMA{{"width", 640.0}, {"encoder", "x"}})
	msgs := []message{
		setChunkSizeMsg(chunkSize),
		cmd(0, "connect", 1.0, amfObj{{"app", "live"}}),
		cmd(0, "releaseStream", 2.0, nil, "k"),
		cmd(0, "FCPublish", 3.0, nil, "k"),
		cmd(0, "createStream", 4.0, nil),
		cmd(1, "publish", 5.0, nil, "k", "live"),
		{csid: 4, typ: typeDataAMF0, streamID: 1, payload: meta},
		{csid: 6, typ: typeVideo, streamID: 1, payload: avcTag(true, 0, 0, testAVCC)},
		{csid: 4, typ: typeAudio, streamID: 1, payload: aacTag(0, testASC)},
		{csid: 6, typ: typeVideo, streamID: 1, timestamp: 0, payload: media},
		{csid: 4, typ: typeAudio, streamID: 1, timestamp: 21, payload: aacTag(1, []byte{1, 2, 3})},
		{csid: 6, typ: typeVideo, streamID: 1, timestamp: 40, payload: media},
		cmd(0, "FCUnpublish", 6.0, nil, "k"),
		cmd(0, "deleteStream", 7.0, nil, 1.0),
	}
	for _, m := range msgs {
		if err := cw.writeMessage(m); err != nil {
			tb.Fatal(err)
		}
		if m.typ == typeSetChunkSize {
			cw.setChunkSize(chunkSize)
		}
	}
	cw.flush()
	return buf.Bytes()
}

var seedFrame = avcTag(true, 1, 0, nalus(4, []byte{0x65, 1, 2, 3}, bytes.Repeat([]byte{0x41}, 300)))

func FuzzChunkReader(f *testing.F) {
	f.Add(sessionBytes(f, 128, seedFrame))
	f.Add(sessionBytes(f, 4096, seedFrame))
	f.Add(cat(chunk0(4, 0x01000000, 300, 9, 1), make([]byte, 128), []byte{0xc4, 1, 0, 0, 0}, make([]byte, 172)))
	f.Add(cat(chunk0(2, 0, 4, typeAbort, 0), []byte{0, 0, 0, 4}, []byte{0x44, 0, 0, 5, 0, 0, 1, 9, 7}))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	l := readerLimits{maxChunk: 1 << 16, maxMsg: 1 << 16, maxStreams: 8}
	f.Fuzz(func(t *testing.T, in []byte) {
		cr := newChunkReader(bufio.NewReader(bytes.NewReader(in)), l)
		for {
			m, err := cr.readMessage()
			if err != nil {
				return
			}
			if len(m.payload) > l.maxMsg || cr.buffered > 2*l.maxMsg || len(cr.streams) > l.maxStreams {
				t.Fatalf("limits broken: %d-byte message, %d buffered, %d streams", len(m.payload), cr.buffered, len(cr.streams))
			}
			if m.typ == typeCommandAMF0 {
				amf0Decode(m.payload)
			}
		}
	})
}

// FuzzServerConn feeds bytes after a real handshake to a server
// connection over net.Pipe.
func FuzzServerConn(f *testing.F) {
	f.Add(sessionBytes(f, 128, seedFrame))
	f.Add(sessionBytes(f, 4096, []byte{0x1c, 1, 0, 0, 0, 1}))
	f.Add(sessionBytes(f, 60000, avcTag(false, 1, -40, nalus(4, []byte{0x41}))))
	f.Add(sessionBytes(f, 1, aacTag(1, nil)))
	f.Fuzz(func(t *testing.T, in []byte) {
		p := newRecPublisher("k")
		cfg := Config{IdleTimeout: 2 * time.Second, HandshakeTimeout: 2 * time.Second, MaxMessageSize: 1 << 16}
		s, err := NewServer(cfg, p)
		if err != nil {
			t.Fatal(err)
		}
		client, server := net.Pipe()
		c := newConn(s, server)
		done := make(chan struct{})
		go func() { c.run(); close(done) }()
		go io.Copy(io.Discard, client)
		if err := fakeClientHandshake(client); err == nil {
			client.Write(in)
		}
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection goroutine did not finish")
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, st := range p.streams {
			if n := len(st.closes); n != 1 {
				t.Fatalf("Close called %d times", n)
			}
		}
	})
}

// fakeClientHandshake sends C0, C1 and C2 while another goroutine drains
// S0, S1 and S2 (the server does not check C2's content).
func fakeClientHandshake(nc net.Conn) error {
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	defer nc.SetDeadline(time.Time{})
	c0c1 := make([]byte, 1+handshakeSize)
	c0c1[0] = rtmpVersion
	if _, err := nc.Write(c0c1); err != nil {
		return err
	}
	_, err := nc.Write(make([]byte, handshakeSize))
	return err
}

func FuzzAMF0(f *testing.F) {
	for _, vals := range [][]any{
		{"connect", 1.0, amfObj{{"app", "live"}, {"tcUrl", "rtmp://h/live"}}},
		{"@setDataFrame", "onMetaData", amfECMA{{"width", 640.0}, {"stereo", true}}},
		{[]any{1.0, nil, amfUndef{}}, time.UnixMilli(5).UTC(), amfXML("<x/>")},
	} {
		b, _ := amf0Append(nil, vals...)
		f.Add(b)
	}
	f.Add([]byte{amfTypedObject, 0, 1, 'C', 0, 0, amfObjectEnd})
	f.Add(bytes.Repeat([]byte{amfObject, 0, 1, 'k'}, 40))
	f.Fuzz(func(t *testing.T, in []byte) {
		vals, err := amf0Decode(in)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		enc, err := amf0Append(nil, vals...)
		if err != nil {
			t.Fatal(err)
		}
		again, err := amf0Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		enc2, _ := amf0Append(nil, again...)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%x\n%x", enc, enc2)
		}
	})
}

func FuzzFLVVideo(f *testing.F) {
	f.Add(avcTag(true, 0, 0, testAVCC))
	f.Add(avcTag(true, 0, 0, avcRecord(1, testSPS, testPPS)))
	f.Add(seedFrame)
	f.Add(avcTag(false, 1, -1, nalus(2, []byte{0x41, 9}, []byte{0x06})))
	f.Add([]byte{0x90, 'a', 'v', 'c', '1', 1, 0x42})
	f.Add([]byte{0x1c, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		tag, err := parseVideoTag(in)
		if err != nil {
			return
		}
		switch tag.kind {
		case tagConfig:
			size, err := parseAVCConfig(tag.data)
			if err != nil {
				return
			}
			if s4, err := parseAVCConfig(avcConfigFor4(tag.data)); err != nil || s4 != 4 || size == 3 {
				t.Fatalf("rewritten record: %d, %v (was %d)", s4, err, size)
			}
		case tagFrame:
			for _, size := range []int{1, 2, 4} {
				out, err := nalusTo4(tag.data, size)
				if err != nil {
					continue
				}
				if _, err := nalusTo4(out, 4); err != nil {
					t.Fatalf("converted from size %d does not parse: %v", size, err)
				}
			}
		}
	})
}

func FuzzFLVAudio(f *testing.F) {
	f.Add(aacTag(0, testASC))
	f.Add(aacTag(0, []byte{0x2b, 0x92, 0x08, 0x00}))
	f.Add(aacTag(1, []byte{0x21, 0x10}))
	f.Add([]byte{0x90, 'm', 'p', '4', 'a', 0x12, 0x10})
	f.Add([]byte{0x2f, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		tag, err := parseAudioTag(in)
		if err == nil && tag.kind == tagConfig {
			parseASC(tag.data)
		}
	})
}

func FuzzHandshake(f *testing.F) {
	c0c1 := make([]byte, 1+2*handshakeSize)
	c0c1[0] = 3
	f.Add(c0c1)
	f.Add([]byte{6, 1, 2})
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		rw := struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), &out}
		err := serverHandshake(rw, 7)
		if err == nil && len(in) < 1+2*handshakeSize {
			t.Fatalf("handshake succeeded on %d bytes", len(in))
		}
		if err == nil && !bytes.Equal(out.Bytes()[1+handshakeSize:], in[1:1+handshakeSize]) {
			t.Fatal("S2 does not echo C1")
		}
	})
}
