package live

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestPartHeaderRoundTrip(t *testing.T) {
	pdt := time.Date(2025, 3, 1, 9, 0, 0, 123456000, time.UTC)
	tests := []Part{
		{},
		{MSN: 7, Index: 3, Duration: 466666 * time.Microsecond, Independent: true, PDT: pdt, DiscSeq: 2,
			InitID: 0xdeadbeef, PartTarget: 500 * time.Millisecond, TargetDuration: 2},
		{MSN: 1 << 40, Index: MaxPartsPerSegment - 1, SegmentEnd: true, SegmentDuration: 2002 * time.Millisecond,
			Discontinuity: true, Gap: true, Duration: 2002 * time.Millisecond, TargetDuration: 4},
	}
	for _, p := range tests {
		b := MarshalPartHeader(p)
		if len(b) > MaxHeaderSize {
			t.Errorf("%d header bytes", len(b))
		}
		got, err := UnmarshalPartHeader(b)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if !got.PDT.Equal(p.PDT) {
			t.Errorf("PDT %v, want %v", got.PDT, p.PDT)
		}
		got.PDT, p.PDT = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("round trip: %+v, want %+v", got, p)
		}
	}
}

func TestPartHeaderRejects(t *testing.T) {
	good := MarshalPartHeader(Part{MSN: 1, Index: 1, SegmentEnd: true, PDT: time.Unix(1, 0)})
	tests := map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{2}, good[1:]...),
		"flags":       append([]byte{1, 0x80}, good[2:]...),
		"truncated":   good[:len(good)-1],
		"trailing":    append(append([]byte(nil), good...), 0),
		"huge index":  MarshalPartHeader(Part{Index: MaxPartsPerSegment}),
		"huge target": MarshalPartHeader(Part{TargetDuration: 1 << 20}),
		"long":        make([]byte, MaxHeaderSize+1),
	}
	for name, b := range tests {
		if _, err := UnmarshalPartHeader(b); !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzPartHeader(f *testing.F) {
	f.Add(MarshalPartHeader(Part{}))
	f.Add(MarshalPartHeader(Part{MSN: 9, Index: 2, Duration: time.Second, PDT: time.Unix(1700000000, 5000), SegmentEnd: true,
		SegmentDuration: 2 * time.Second, InitID: 7, PartTarget: 500 * time.Millisecond, TargetDuration: 2, DiscSeq: 1}))
	f.Add([]byte{1, 31, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalPartHeader(b)
		if err != nil {
			if !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error %v is not ErrBadHeader", err)
			}
			return
		}
		if checkPart(p) != nil {
			t.Fatalf("decoded part fails checkPart: %+v", p)
		}
		q, err := UnmarshalPartHeader(MarshalPartHeader(p))
		if err != nil || !q.PDT.Equal(p.PDT) {
			t.Fatalf("re-encoding: %+v, %v", q, err)
		}
		q.PDT, p.PDT = time.Time{}, time.Time{}
		if !reflect.DeepEqual(q, p) {
			t.Fatalf("re-encoding changed %+v to %+v", p, q)
		}
	})
}
