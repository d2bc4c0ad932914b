package fill

import (
	"bytes"
	"reflect"
	"testing"
)

// The fuzzers check that decoders never panic, never accept more than one
// frame's worth of input, and that whatever they accept re-encodes to an
// equivalent value.

func FuzzDecodeFillRequest(f *testing.F) {
	f.Add(mustMarshal(f, sampleFillRequest()))
	f.Add(mustMarshal(f, FillRequest{AssetID: "a", Object: "init.mp4"}))
	f.Add([]byte{'C', 'M', 'F', 1, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := DecodeFillRequest(bytes.NewReader(in))
		if err != nil {
			return
		}
		again, err := DecodeFillRequest(bytes.NewReader(mustMarshal(t, req)))
		if err != nil || again != req {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, req)
		}
	})
}

func FuzzDecodeFillResponse(f *testing.F) {
	f.Add(mustMarshal(f, sampleFillHeader()))
	f.Add(mustMarshal(f, FillHeader{Status: FillBusy, Size: -1, Message: "too many fills"}))
	f.Add([]byte{'C', 'M', 'f', 1, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := DecodeFillResponse(bytes.NewReader(in))
		if err != nil {
			return
		}
		again, err := DecodeFillResponse(bytes.NewReader(mustMarshal(t, h)))
		if err != nil || !reflect.DeepEqual(again, h) {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, h)
		}
	})
}
