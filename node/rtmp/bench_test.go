package rtmp

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// BenchmarkChunkReader reads a publisher-like stream: per second of a
// 25 fps video, one 150 KB keyframe, 24 inter frames of 12 KB and 47 AAC
// frames, written with a 4096-byte chunk size and header compression.
func BenchmarkChunkReader(b *testing.B) {
	var buf bytes.Buffer
	cw := newChunkWriter(bufio.NewWriter(&buf))
	cw.writeMessage(setChunkSizeMsg(4096))
	cw.setChunkSize(4096)
	key, inter, aac := payload(150<<10, 1), payload(12<<10, 2), payload(370, 3)
	for f := range 25 {
		body := inter
		if f == 0 {
			body = key
		}
		cw.writeMessage(message{csid: 6, typ: typeVideo, streamID: 1, timestamp: uint32(40 * f), payload: body})
		for a := range 2 {
			cw.writeMessage(message{csid: 4, typ: typeAudio, streamID: 1, timestamp: uint32(40*f + 21*a), payload: aac})
		}
	}
	cw.flush()
	stream := buf.Bytes()
	l := readerLimits{maxChunk: maxMessageLen, maxMsg: DefaultMaxMessageSize, maxStreams: 64}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	r := bytes.NewReader(stream)
	br := bufio.NewReaderSize(r, 64<<10)
	for b.Loop() {
		r.Reset(stream)
		br.Reset(r)
		cr := newChunkReader(br, l)
		n := 0
		for {
			_, err := cr.readMessage()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 75 {
			b.Fatalf("%d messages", n)
		}
	}
}
