package rtmp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// testClient is a minimal RTMP publisher built from the package's own
// chunk writer and reader.
type testClient struct {
	t  testing.TB
	nc net.Conn
	cr *chunkReader
	cw *chunkWriter
}

func dialClient(t testing.TB, addr net.Addr) *testClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(waitFor))
	c := &testClient{
		t:  t,
		nc: nc,
		cr: newChunkReader(bufio.NewReader(nc), readerLimits{maxChunk: maxMessageLen, maxMsg: maxMessageLen, maxStreams: 64}),
		cw: newChunkWriter(bufio.NewWriter(nc)),
	}
	rw := struct {
		io.Reader
		io.Writer
	}{c.cr.r, nc}
	if err := clientHandshake(rw); err != nil {
		t.Fatal(err)
	}
	return c
}

// send writes and flushes messages.
func (c *testClient) send(ms ...message) error {
	for _, m := range ms {
		if err := c.cw.writeMessage(m); err != nil {
			return err
		}
	}
	return c.cw.flush()
}

func (c *testClient) command(streamID uint32, vals ...any) error {
	body, err := amf0Append(nil, vals...)
	if err != nil {
		return err
	}
	return c.send(message{csid: 3, typ: typeCommandAMF0, streamID: streamID, payload: body})
}

// readCommand returns the next command the server sends.
func (c *testClient) readCommand() ([]any, error) {
	for {
		m, err := c.cr.readMessage()
		if err != nil {
			return nil, err
		}
		if m.typ == typeCommandAMF0 {
			return amf0Decode(m.payload)
		}
	}
}

// infoCode returns the "code" of a reply's information object.
func infoCode(vals []any) string {
	for _, v := range vals {
		if o, ok := v.(amfObj); ok && o.str("code") != "" {
			return o.str("code")
		}
	}
	return ""
}

func (c *testClient) connect(app string) error {
	if err := c.command(0, "connect", 1.0, amfObj{{"app", app}, {"type", "nonprivate"},
		{"tcUrl", "rtmp://127.0.0.1/" + app}}); err != nil {
		return err
	}
	vals, err := c.readCommand()
	if err != nil {
		return err
	}
	if first(vals) != "_result" || infoCode(vals) != codeConnectSuccess {
		return fmt.Errorf("connect: %v", vals)
	}
	return nil
}

func (c *testClient) createStream() (uint32, error) {
	if err := c.command(0, "createStream", 2.0, nil); err != nil {
		return 0, err
	}
	vals, err := c.readCommand()
	if err != nil {
		return 0, err
	}
	id, ok := arg(vals, 3).(float64)
	if first(vals) != "_result" || !ok {
		return 0, fmt.Errorf("createStream: %v", vals)
	}
	return uint32(id), nil
}

// publish runs connect, createStream and publish and returns the status
// code of the answer.
func (c *testClient) publish(key string) (uint32, string, error) {
	if err := c.connect("live"); err != nil {
		return 0, "", err
	}
	id, err := c.createStream()
	if err != nil {
		return 0, "", err
	}
	if err := c.command(id, "publish", 0.0, nil, key, "live"); err != nil {
		return 0, "", err
	}
	vals, err := c.readCommand()
	if err != nil {
		return 0, "", err
	}
	return id, infoCode(vals), nil
}

// mustPublish publishes key and fails the test unless it started.
func (c *testClient) mustPublish(key string) uint32 {
	c.t.Helper()
	id, code, err := c.publish(key)
	if err != nil || code != codePublishStart {
		c.t.Fatalf("publish %q: %s, %v", key, code, err)
	}
	return id
}

func (c *testClient) video(id, ts uint32, body []byte) error {
	return c.send(message{csid: 6, typ: typeVideo, streamID: id, timestamp: ts, payload: body})
}

func (c *testClient) audio(id, ts uint32, body []byte) error {
	return c.send(message{csid: 4, typ: typeAudio, streamID: id, timestamp: ts, payload: body})
}

// waitClosed reads until the server closes the connection; it returns the
// read error that is not a close (nil when closed as expected).
func (c *testClient) waitClosed() error {
	c.nc.SetReadDeadline(time.Now().Add(waitFor))
	_, err := io.Copy(io.Discard, c.nc)
	c.nc.Close()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return nil
}

// Test media: a syntactically valid AVC record and AAC configuration.
var (
	testSPS  = []byte{0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5}
	testPPS  = []byte{0x68, 0xce, 0x3c, 0x80}
	testAVCC = avcRecord(3, testSPS, testPPS)
	testASC  = []byte{0x12, 0x10} // AAC LC, 44.1 kHz, stereo
)

// avcRecord builds an AVCDecoderConfigurationRecord.
func avcRecord(lengthSizeMinusOne byte, sps, pps []byte) []byte {
	b := []byte{1, sps[1], sps[2], sps[3], 0xfc | lengthSizeMinusOne, 0xe1}
	b = append(b, byte(len(sps)>>8), byte(len(sps)))
	b = append(b, sps...)
	b = append(b, 1, byte(len(pps)>>8), byte(len(pps)))
	return append(b, pps...)
}

// avcTag builds a classic FLV AVC video tag body.
func avcTag(key bool, pktType byte, cts int32, data []byte) []byte {
	b := byte(0x27)
	if key {
		b = 0x17
	}
	return append([]byte{b, pktType, byte(cts >> 16), byte(cts >> 8), byte(cts)}, data...)
}

// aacTag builds a classic FLV AAC audio tag body.
func aacTag(pktType byte, data []byte) []byte {
	return append([]byte{0xaf, pktType}, data...)
}

// nalus prefixes each NAL unit with a length of size bytes.
func nalus(size int, units ...[]byte) []byte {
	var b []byte
	for _, u := range units {
		for i := size - 1; i >= 0; i-- {
			b = append(b, byte(len(u)>>(8*i)))
		}
		b = append(b, u...)
	}
	return b
}
