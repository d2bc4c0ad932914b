package rtmp

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAMF0RoundTrip(t *testing.T) {
	date := time.UnixMilli(1700000000123).UTC()
	cases := []struct {
		name string
		vals []any
	}{
		{"scalars", []any{1.5, -0.0, math.Inf(1), true, false, "", "héllo", nil, amfUndef{}}},
		{"long string", []any{strings.Repeat("x", 70000)}},
		{"object", []any{amfObj{{"app", "live"}, {"n", 2.0}, {"inner", amfObj{{"deep", amfObj{}}}}}}},
		{"ecma array", []any{amfECMA{{"width", 640.0}, {"encoder", "Lavf"}}, amfECMA{}}},
		{"strict array", []any{[]any{1.0, "two", nil, []any{}, amfObj{{"k", false}}}}},
		{"date", []any{date}},
		{"xml", []any{amfXML("<a/>")}},
		{"command", []any{"connect", 1.0, amfObj{{"app", "live"}, {"tcUrl", "rtmp://h/live"}}, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := amf0Append(nil, tc.vals...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := amf0Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.vals) {
				t.Fatalf("got %#v, want %#v", got, tc.vals)
			}
			again, _ := amf0Append(nil, got...)
			if !bytes.Equal(again, b) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

func TestAMF0DecodeForms(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want []any
	}{
		{"typed object drops the class", []byte{amfTypedObject, 0, 1, 'C', 0, 1, 'k', amfNull, 0, 0, amfObjectEnd},
			[]any{amfObj{{"k", nil}}}},
		{"ecma count is only a hint", []byte{amfECMAArray, 0, 0, 0, 9, 0, 1, 'k', amfBoolean, 1, 0, 0, amfObjectEnd},
			[]any{amfECMA{{"k", true}}}},
		{"empty key with a value", []byte{amfObject, 0, 0, amfBoolean, 0, 0, 0, amfObjectEnd},
			[]any{amfObj{{"", false}}}},
		{"unsupported marker reads as undefined", []byte{amfUnsupported}, []any{amfUndef{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := amf0Decode(tc.in)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestAMF0DecodeErrors(t *testing.T) {
	deep := bytes.Repeat([]byte{amfStrictArray, 0, 0, 0, 1}, amf0MaxDepth+1)
	nan := append([]byte{amfDate}, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 0, 0)
	cases := []struct {
		name string
		in   []byte
	}{
		{"truncated number", []byte{amfNumber, 0, 0}},
		{"truncated string", []byte{amfString, 0, 5, 'a'}},
		{"truncated long string", []byte{amfLongString, 0xff, 0xff, 0xff, 0xff, 'a'}},
		{"object without end", []byte{amfObject, 0, 1, 'k', amfNull}},
		{"strict array count beyond input", []byte{amfStrictArray, 0xff, 0xff, 0xff, 0xff, amfNull}},
		{"nesting too deep", deep},
		{"reference", []byte{amfReference, 0, 1}},
		{"avmplus", []byte{amfAVMPlus, 1}},
		{"movieclip", []byte{amfMovieClip}},
		{"object end outside an object", []byte{amfObjectEnd}},
		{"nan date", nan},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := amf0Decode(tc.in); !errors.Is(err, ErrProtocol) {
				t.Fatalf("err %v, want ErrProtocol", err)
			}
		})
	}
}

func TestAMF0EncodeErrors(t *testing.T) {
	if _, err := amf0Append(nil, struct{}{}); err == nil {
		t.Fatal("encoded a struct")
	}
	if _, err := amf0Append(nil, amfObj{{strings.Repeat("k", 70000), 1.0}}); err == nil {
		t.Fatal("encoded a 70000-byte key")
	}
}
