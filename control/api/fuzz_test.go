package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeBody feeds outside bytes to the request body decoder of
// lessons: it must never panic, must fail with a bodyError, and a decoded
// lesson must survive a re-encode unchanged.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"id":"l1","module_id":"m","title":"L","asset_id":"a","chapters":[{"time":1.5,"title":"x"}],"release_at":"2030-01-01T00:00:00Z"}`,
		`{"prerequisites":["a","b"],"revision":3,"updated_at":"2020-01-01T00:00:00Z"}`,
		`{"id":`, `{"colour":1}`, `{} {}`, `[]`, `null`, `{"chapters":"x"}`, "",
	} {
		f.Add([]byte(s))
	}
	s := kindByPath("lessons")
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeBody(s, bytes.NewReader(b))
		if err != nil {
			var be *bodyError
			if !errors.As(err, &be) {
				t.Fatalf("error is not a bodyError: %v", err)
			}
			return
		}
		p, err := payloadOf(v)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeBody(s, bytes.NewReader(p))
		if err != nil {
			t.Fatalf("re-decode %s: %v", p, err)
		}
		p2, _ := payloadOf(again)
		if !reflect.DeepEqual(v, again) && !bytes.Equal(p, p2) {
			t.Fatalf("round trip changed the lesson:\n%s\n%s", p, p2)
		}
		if !json.Valid(p) {
			t.Fatal("payload is not JSON")
		}
	})
}
