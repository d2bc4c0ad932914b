package remote

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/classmesh/classmesh/internal/frame"
)

// rawFrame builds a frame with an arbitrary payload.
func rawFrame(magic [4]byte, payload []byte) []byte {
	b := append(magic[:], 0, 0)
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	return append(b, payload...)
}

func TestDecodeMalformed(t *testing.T) {
	huge := mustMarshal(t, Request{Op: OpRead, Path: "a", Length: 1})
	binary.BigEndian.PutUint64(huge[len(huge)-8:], MaxRead+1)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"bad op", rawFrame(magicRequest, []byte{7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), frame.ErrMalformed},
		{"list with path", rawFrame(magicRequest, []byte{1, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), frame.ErrMalformed},
		{"huge read", huge, frame.ErrMalformed},
		{"fill magic", rawFrame([4]byte{'C', 'M', 'F', 1}, nil), frame.ErrMalformed},
		{"empty stream", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeRequest(bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMarshalRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    interface{ MarshalBinary() ([]byte, error) }
	}{
		{"negative offset", Request{Op: OpRead, Path: "a", Offset: -1}},
		{"stat with length", Request{Op: OpStat, Path: "a", Length: 3}},
		{"read no path", Request{Op: OpRead}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.m.MarshalBinary(); !errors.Is(err, frame.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestFramesRoundTrip(t *testing.T) {
	for _, req := range []Request{
		{Op: OpList},
		{Op: OpStat, Path: "intro/v720.mp4"},
		{Op: OpRead, Path: "intro/v720.mp4", Offset: 1 << 40, Length: MaxRead},
	} {
		got, err := DecodeRequest(bytes.NewReader(mustMarshal(t, req)))
		if err != nil || got != req {
			t.Fatalf("got %+v, %v; want %+v", got, err, req)
		}
	}
	resp := response{Status: StatusOK, Size: 123, Identity: "123-456", Message: ""}
	b, err := resp.marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeResponse(bytes.NewReader(b))
	if err != nil || got != resp {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// The wire format is fixed: these bytes are what every released node
// sends and expects.
func TestWireBytes(t *testing.T) {
	got := mustMarshal(t, Request{Op: OpStat, Path: "a/b.mp4"})
	want := []byte{'C', 'M', 'O', 1, 0, 26, 2, 0, 7, 'a', '/', 'b', '.', 'm', 'p', '4',
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("request bytes\n got %v\nwant %v", got, want)
	}
	resp, err := response{Status: StatusNotFound, Size: 0, Identity: "i", Message: "m"}.marshal()
	if err != nil {
		t.Fatal(err)
	}
	wantResp := []byte{'C', 'M', 'o', 1, 0, 15, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'i', 0, 1, 'm'}
	if !bytes.Equal(resp, wantResp) {
		t.Fatalf("response bytes\n got %v\nwant %v", resp, wantResp)
	}
	if ALPN != "classmesh-origin/1" {
		t.Fatalf("ALPN %q", ALPN)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusOK: "ok", StatusNotFound: "not_found",
		StatusUnprocessable: "unprocessable", StatusBusy: "busy", StatusError: "error", 9: "status(9)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", s, got, want)
		}
	}
}
