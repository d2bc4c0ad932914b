package frame

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

var magic = [4]byte{'T', 'S', 'T', 1}

func TestRoundTrip(t *testing.T) {
	var e Encoder
	e.U8(7)
	e.U64(1 << 40)
	e.Str("héllo")
	e.Raw([]byte{1, 2})
	b, err := e.Frame(magic)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Read(bytes.NewReader(b), magic)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(p)
	if v := d.U8(); v != 7 {
		t.Fatalf("u8 %d", v)
	}
	if v := d.U64(); v != 1<<40 {
		t.Fatalf("u64 %d", v)
	}
	if v := d.Str("s", 16); v != "héllo" {
		t.Fatalf("str %q", v)
	}
	if v := d.Take(2); !bytes.Equal(v, []byte{1, 2}) || d.End() != nil {
		t.Fatalf("raw %v, %v", v, d.End())
	}
}

func TestMalformed(t *testing.T) {
	str := func(s string) []byte { var e Encoder; e.Str(s); return e.b }
	for _, tc := range []struct {
		name string
		p    []byte
		read func(d *Decoder)
	}{
		{"truncated", []byte{1}, func(d *Decoder) { d.U64() }},
		{"trailing", []byte{1, 2}, func(d *Decoder) { d.U8() }},
		{"long string", str("abcdef"), func(d *Decoder) { d.Str("s", 3) }},
		{"control character", str("a\nb"), func(d *Decoder) { d.Str("s", 16) }},
		{"invalid UTF-8", str("\xff"), func(d *Decoder) { d.Str("s", 16) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.p)
			tc.read(d)
			if err := d.End(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"bad magic", []byte("HTTP\x00\x00"), ErrMalformed},
		{"oversized", []byte{'T', 'S', 'T', 1, 0xff, 0xff}, ErrMalformed},
		{"empty", nil, io.EOF},
		{"short header", []byte{'T', 'S'}, io.ErrUnexpectedEOF},
		{"short payload", []byte{'T', 'S', 'T', 1, 0, 4, 1}, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Read(bytes.NewReader(tc.in), magic); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	var e Encoder
	e.Raw(make([]byte, MaxPayload+1))
	if _, err := e.Frame(magic); err == nil {
		t.Fatal("oversized payload framed")
	}
}

func TestTruncMsg(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\nb", "a?b"},
		{"\xffx", "?x"},
		{strings.Repeat("é", 600), strings.Repeat("é", 512)},
	} {
		if got := TruncMsg(tc.in); got != tc.want || !Printable(got) {
			t.Errorf("TruncMsg(%q) = %q", tc.in, got)
		}
	}
}
