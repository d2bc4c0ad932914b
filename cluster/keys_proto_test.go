package cluster

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestKeysProtoRoundTrip(t *testing.T) {
	for _, req := range []keysRequest{
		{KeyInstall, bytes.Repeat([]byte{1}, 32)},
		{KeyUse, bytes.Repeat([]byte{2}, 16)},
		{KeyRemove, bytes.Repeat([]byte{3}, 24)},
	} {
		t.Run("request "+req.Op.String(), func(t *testing.T) {
			got, err := decodeKeysRequest(bytes.NewReader(req.marshal()))
			if err != nil || !reflect.DeepEqual(got, req) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		in   keysResponse
		want keysResponse
	}{
		{"ok", keysResponse{OK: true}, keysResponse{OK: true}},
		{"error", keysResponse{Msg: "nope"}, keysResponse{Msg: "nope"}},
		{"long message", keysResponse{Msg: strings.Repeat("x", 2000)}, keysResponse{Msg: strings.Repeat("x", maxKeysMsg)}},
	} {
		t.Run("response "+tc.name, func(t *testing.T) {
			got, err := decodeKeysResponse(bytes.NewReader(tc.in.marshal()))
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestKeysProtoErrors(t *testing.T) {
	good := keysRequest{KeyInstall, make([]byte, 32)}.marshal()
	mod := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	for _, tc := range []struct {
		name string
		in   []byte
		resp bool
	}{
		{"empty", nil, false},
		{"magic", mod(0, 'X'), false},
		{"op 0", mod(4, 0), false},
		{"op 4", mod(4, 4), false},
		{"key length 31", mod(5, 31), false},
		{"short key", good[:20], false},
		{"response magic", []byte("CMK\x01\x01\x00\x00"), true},
		{"response status", []byte("CMk\x01\x02\x00\x00"), true},
		{"response length", []byte("CMk\x01\x00\xff\xff"), true},
		{"response short", []byte("CMk\x01\x00\x00\x05ab"), true},
		{"response utf8", []byte("CMk\x01\x00\x00\x01\xff"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.resp {
				_, err = decodeKeysResponse(bytes.NewReader(tc.in))
			} else {
				_, err = decodeKeysRequest(bytes.NewReader(tc.in))
			}
			if !errors.Is(err, ErrBadKeysMessage) {
				t.Fatalf("got %v, want ErrBadKeysMessage", err)
			}
		})
	}
}

func FuzzDecodeKeysRequest(f *testing.F) {
	f.Add(keysRequest{KeyInstall, make([]byte, 32)}.marshal())
	f.Add(keysRequest{KeyRemove, make([]byte, 16)}.marshal())
	f.Add([]byte("CMK\x01\x09\x20"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeKeysRequest(bytes.NewReader(b))
		if err != nil {
			return
		}
		if !bytes.Equal(req.marshal(), b[:6+len(req.Key)]) {
			t.Fatalf("re-marshal differs for %x", b)
		}
	})
}

func FuzzDecodeKeysResponse(f *testing.F) {
	f.Add(keysResponse{OK: true}.marshal())
	f.Add(keysResponse{Msg: "cluster: refused"}.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := decodeKeysResponse(bytes.NewReader(b))
		if err != nil {
			return
		}
		if !bytes.Equal(resp.marshal(), b[:7+len(resp.Msg)]) {
			t.Fatalf("re-marshal differs for %x", b)
		}
	})
}
