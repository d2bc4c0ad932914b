package fill

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func sampleFillRequest() FillRequest {
	return FillRequest{Hop: 1, Epoch: 42, Requester: "edge-a", Region: "eu",
		AssetID: "intro", RenditionID: "v720", Object: "seg-3.m4s", Source: "1234-5678"}
}

func sampleFillHeader() FillHeader {
	sum := sha256.Sum256([]byte("body"))
	return FillHeader{Status: FillOK, Size: 4, SHA256: sum[:]}
}

func mustMarshal(t testing.TB, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFillRequestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  FillRequest
	}{
		{"full", sampleFillRequest()},
		{"minimal", FillRequest{AssetID: "a", Object: "init.mp4"}},
		{"max fields", FillRequest{AssetID: strings.Repeat("a", 256), Object: strings.Repeat("o", 256),
			Requester: strings.Repeat("r", 256), Region: strings.Repeat("g", 256),
			RenditionID: strings.Repeat("v", 256), Source: strings.Repeat("é", 128)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeFillRequest(bytes.NewReader(mustMarshal(t, tc.req)))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.req {
				t.Fatalf("got %+v, want %+v", got, tc.req)
			}
		})
	}
}

func TestFillHeaderRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    FillHeader
	}{
		{"ok with sum", sampleFillHeader()},
		{"ok unknown size", FillHeader{Status: FillOK, Size: -1}},
		{"refused", FillHeader{Status: FillWrongOwner, Size: -1, Message: "epoch 3 != 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeFillResponse(bytes.NewReader(mustMarshal(t, tc.h)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.h) {
				t.Fatalf("got %+v, want %+v", got, tc.h)
			}
		})
	}
}

// rawFrame builds a frame with an arbitrary payload.
func rawFrame(magic [4]byte, payload []byte) []byte {
	b := append(magic[:], 0, 0)
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	return append(b, payload...)
}

func TestDecodeMalformed(t *testing.T) {
	good := mustMarshal(t, sampleFillRequest())
	longField := append([]byte{1}, make([]byte, 8)...)
	longField = binary.BigEndian.AppendUint16(longField, 300)
	longField = append(longField, bytes.Repeat([]byte("x"), 300)...)
	tests := []struct {
		name    string
		in      []byte
		decode  func(io.Reader) error
		wantErr error
	}{
		{"bad magic", append([]byte("HTTP"), good[4:]...), decReq, ErrMalformed},
		{"oversized frame", []byte{'C', 'M', 'F', 1, 0xff, 0xff}, decReq, ErrMalformed},
		{"long field", rawFrame(magicFillRequest, longField), decReq, ErrMalformed},
		{"trailing bytes", rawFrame(magicFillRequest, append(good[6:], 0)), decReq, ErrMalformed},
		{"truncated payload", rawFrame(magicFillRequest, good[6:len(good)-1]), decReq, ErrMalformed},
		{"missing asset", mustFrame(t, FillRequest{AssetID: "a", Object: "o"}, func(p []byte) []byte {
			return rawFrame(magicFillRequest, append(p[:13], p[14:]...)) // drops asset byte
		}), decReq, ErrMalformed},
		{"short stream", good[:10], decReq, io.ErrUnexpectedEOF},
		{"empty stream", nil, decReq, io.EOF},
		{"bad status", rawFrame(magicFillResponse, append([]byte{9}, make([]byte, 11)...)), decResp, ErrMalformed},
		{"bad size", rawFrame(magicFillResponse, append([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0}, 0, 0, 0)), decResp, ErrMalformed},
		{"bad flags", rawFrame(magicFillResponse, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0}), decResp, ErrMalformed},
		{"ctrl in message", rawFrame(magicFillResponse, []byte{6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, '\n'}), decResp, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func decReq(r io.Reader) error  { _, err := DecodeFillRequest(r); return err }
func decResp(r io.Reader) error { _, err := DecodeFillResponse(r); return err }

// mustFrame marshals req and lets edit rebuild the frame from its payload.
func mustFrame(t *testing.T, req FillRequest, edit func(payload []byte) []byte) []byte {
	return edit(mustMarshal(t, req)[6:])
}

func TestMarshalRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    interface{ MarshalBinary() ([]byte, error) }
	}{
		{"no object", FillRequest{AssetID: "a"}},
		{"long asset", FillRequest{AssetID: strings.Repeat("a", 257), Object: "o"}},
		{"newline", FillRequest{AssetID: "a\n", Object: "o"}},
		{"zero status", FillHeader{}},
		{"short sum", FillHeader{Status: FillOK, SHA256: []byte{1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.m.MarshalBinary(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}
