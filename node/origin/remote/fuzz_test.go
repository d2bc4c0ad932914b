package remote

import (
	"bytes"
	"testing"
)

// FuzzDecodeRequest checks that the decoder of outside bytes never panics
// and that whatever it accepts re-encodes to an equivalent value.
func FuzzDecodeRequest(f *testing.F) {
	f.Add(mustMarshal(f, Request{Op: OpList}))
	f.Add(mustMarshal(f, Request{Op: OpStat, Path: "intro/v720.mp4"}))
	f.Add(mustMarshal(f, Request{Op: OpRead, Path: "../etc/passwd", Offset: 5, Length: 1 << 20}))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := DecodeRequest(bytes.NewReader(in))
		if err != nil {
			return
		}
		again, err := DecodeRequest(bytes.NewReader(mustMarshal(t, req)))
		if err != nil || again != req {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, req)
		}
	})
}

// FuzzDecodeResponse does the same for the answer a client reads.
func FuzzDecodeResponse(f *testing.F) {
	for _, h := range []response{{Status: StatusOK, Size: 12, Identity: "12-34"}, {Status: StatusBusy, Message: "too many requests"}} {
		b, err := h.marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := decodeResponse(bytes.NewReader(in))
		if err != nil {
			return
		}
		b, err := h.marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeResponse(bytes.NewReader(b))
		if err != nil || again != h {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, h)
		}
	})
}
