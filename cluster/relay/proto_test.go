package relay

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/internal/clustertest"
	"github.com/classmesh/classmesh/internal/frame"
)

func TestRelayRequestRoundTrip(t *testing.T) {
	for _, req := range []relayRequest{
		{Kind: relaySubscribe, Token: 7, Track: "sess123/video", Path: []string{"edge-1", "relay-2"}},
		{Kind: relaySubscribe, Token: 1<<64 - 1, Track: strings.Repeat("t", RelayMaxTrack)},
		{Kind: relayAttach, Token: 42},
	} {
		got, err := decodeRelayRequest(bytes.NewReader(clustertest.Marshal(t, req)))
		if err != nil || !reflect.DeepEqual(got, req) {
			t.Fatalf("round trip %+v: %+v, %v", req, got, err)
		}
	}
}

func TestRelayRequestRejects(t *testing.T) {
	nine := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	for name, req := range map[string]relayRequest{
		"no track":       {Kind: relaySubscribe},
		"long track":     {Kind: relaySubscribe, Track: strings.Repeat("t", RelayMaxTrack+1)},
		"control char":   {Kind: relaySubscribe, Track: "a\nb"},
		"long path":      {Kind: relaySubscribe, Track: "t", Path: nine},
		"bad node":       {Kind: relaySubscribe, Track: "t", Path: []string{"a b"}},
		"attach + track": {Kind: relayAttach, Track: "t"},
		"unknown kind":   {Kind: 9, Track: "t"},
	} {
		if _, err := req.MarshalBinary(); !errors.Is(err, frame.ErrMalformed) {
			t.Errorf("%s: MarshalBinary = %v, want frame.ErrMalformed", name, err)
		}
	}
}

func TestRelayControlRoundTrip(t *testing.T) {
	for _, c := range []relayControl{
		{Kind: relayReply, Code: relayOK},
		{Kind: relayReply, Code: relayNotFound, Message: "track not found"},
		{Kind: relayEnd, Code: relayEnded, Streams: 12345},
	} {
		got, err := decodeRelayControl(bytes.NewReader(clustertest.Marshal(t, c)))
		if err != nil || got != c {
			t.Fatalf("round trip %+v: %+v, %v", c, got, err)
		}
	}
	if _, err := (relayControl{Kind: relayEnd, Code: relayCodeCount}).MarshalBinary(); !errors.Is(err, frame.ErrMalformed) {
		t.Fatalf("unknown code: %v", err)
	}
}

// ryGroupStream encodes a group stream: header then records.
func ryGroupStream(seq, group uint64, recs ...relayRecord) []byte {
	b := appendRelayGroupHeader(nil, seq, group)
	for i := range recs {
		b = appendRelayRecordPrefix(b, &recs[i])
		b = append(b, recs[i].Payload...)
	}
	return b
}

func TestRelayGroupStreamRoundTrip(t *testing.T) {
	created := time.Unix(1_700_000_000, 123456789)
	recs := []relayRecord{
		{Type: relayRecInit, Payload: []byte("ftyp moov")},
		{Type: relayRecObject, ID: 0, Created: created, Header: []byte("part 0"), Payload: bytes.Repeat([]byte{1}, 1000)},
		{Type: relayRecObject, ID: 1, Header: []byte{}, Payload: []byte{}},
	}
	rd := bytes.NewReader(ryGroupStream(3, 99, recs...))
	seq, group, err := decodeRelayGroupHeader(rd)
	if err != nil || seq != 3 || group != 99 {
		t.Fatalf("header: %d %d %v", seq, group, err)
	}
	for i, want := range recs {
		got, err := readRelayRecord(rd, 1<<20)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got.Type != want.Type || got.ID != want.ID || !got.Created.Equal(want.Created) ||
			!bytes.Equal(got.Header, want.Header) || !bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("record %d: %+v, want %+v", i, got, want)
		}
	}
	if _, err := readRelayRecord(rd, 1<<20); err != io.EOF {
		t.Fatalf("after last record: %v, want io.EOF", err)
	}
}

func TestRelayRecordLimits(t *testing.T) {
	big := relayRecord{Type: relayRecObject, Payload: make([]byte, 2000)}
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"payload over limit": {append(appendRelayRecordPrefix(nil, &big), big.Payload...), frame.ErrMalformed},
		"init over limit":    {[]byte{relayRecInit, 0, 0, 0x10, 0}, frame.ErrMalformed},
		"huge length":        {[]byte{relayRecObject, 0xff, 0xff, 0xff, 0xff}, frame.ErrMalformed},
		"short object":       {[]byte{relayRecObject, 0, 0, 0, 3, 1, 2, 3}, frame.ErrMalformed},
		"unknown type":       {[]byte{7, 0, 0, 0, 0}, frame.ErrMalformed},
		"truncated body":     {[]byte{relayRecInit, 0, 0, 0, 9, 1}, io.ErrUnexpectedEOF},
		"header past body":   {[]byte{relayRecObject, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, frame.ErrMalformed},
	} {
		if _, err := readRelayRecord(bytes.NewReader(tc.in), 1024); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func FuzzRelayRequest(f *testing.F) {
	f.Add(clustertest.Marshal(f, relayRequest{Kind: relaySubscribe, Token: 1, Track: "s/video", Path: []string{"n1"}}))
	f.Add(clustertest.Marshal(f, relayRequest{Kind: relayAttach, Token: 2}))
	f.Add([]byte{'C', 'M', 'R', 1, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := decodeRelayRequest(bytes.NewReader(in))
		if err != nil {
			return
		}
		again, err := decodeRelayRequest(bytes.NewReader(clustertest.Marshal(t, req)))
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, req)
		}
	})
}

func FuzzRelayControl(f *testing.F) {
	f.Add(clustertest.Marshal(f, relayControl{Kind: relayReply, Code: relayOK}))
	f.Add(clustertest.Marshal(f, relayControl{Kind: relayEnd, Code: relayEnded, Streams: 9, Message: "bye"}))
	f.Add([]byte{'C', 'M', 'r', 1, 0, 1, 2})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := decodeRelayControl(bytes.NewReader(in))
		if err != nil {
			return
		}
		again, err := decodeRelayControl(bytes.NewReader(clustertest.Marshal(t, c)))
		if err != nil || again != c {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, c)
		}
	})
}

// FuzzRelayObject decodes a whole group stream (header, then records)
// with a small payload limit; accepted records must re-encode to the same
// bytes.
func FuzzRelayObject(f *testing.F) {
	f.Add(ryGroupStream(0, 1,
		relayRecord{Type: relayRecInit, Payload: []byte("init")},
		relayRecord{Type: relayRecObject, ID: 5, Created: time.Unix(0, 99), Header: []byte("h"), Payload: []byte("payload")}))
	f.Add(ryGroupStream(1, 2, relayRecord{Type: relayRecObject, ID: 1}))
	f.Add([]byte{'C', 'M', 'G', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff})
	const limit = 4096
	f.Fuzz(func(t *testing.T, in []byte) {
		rd := bytes.NewReader(in)
		seq, group, err := decodeRelayGroupHeader(rd)
		if err != nil {
			return
		}
		for {
			start := len(in) - rd.Len()
			rec, err := readRelayRecord(rd, limit)
			if err != nil {
				return
			}
			if len(rec.Payload) > limit || len(rec.Header) > RelayMaxHeader {
				t.Fatalf("record over limits: %d/%d", len(rec.Header), len(rec.Payload))
			}
			consumed := in[start : len(in)-rd.Len()]
			enc := appendRelayRecordPrefix(nil, &rec)
			enc = append(enc, rec.Payload...)
			if rec.Created.IsZero() == (rec.Type == relayRecObject && !bytes.Equal(consumed[13:21], make([]byte, 8))) {
				t.Fatalf("created %v from %x", rec.Created, consumed[13:21])
			}
			if !bytes.Equal(enc, consumed) {
				t.Fatalf("seq %d group %d: re-encoded %x, read %x", seq, group, enc, consumed)
			}
		}
	})
}
