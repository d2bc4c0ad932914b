package live

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHLSQuery(t *testing.T) {
	tests := []struct {
		raw  string
		want hlsQuery
		ok   bool
	}{
		{"", hlsQuery{part: -1}, true},
		{"_HLS_msn=12", hlsQuery{block: true, msn: 12, part: -1}, true},
		{"_HLS_msn=12&_HLS_part=3", hlsQuery{block: true, msn: 12, part: 3}, true},
		{"_HLS_msn=12&_HLS_part=3&_HLS_skip=YES", hlsQuery{block: true, msn: 12, part: 3, skip: true}, true},
		{"_HLS_skip=v2&token=x", hlsQuery{part: -1, skip: true}, true},
		{"_HLS_part=3", hlsQuery{}, false},
		{"_HLS_msn=-1", hlsQuery{}, false},
		{"_HLS_msn=%2B1", hlsQuery{}, false},
		{"_HLS_msn=1&_HLS_part=1024", hlsQuery{}, false},
		{"_HLS_msn=99999999999999999999", hlsQuery{}, false},
		{"_HLS_msn=1&_HLS_msn=1", hlsQuery{}, false},
		{"_HLS_skip=yes", hlsQuery{}, false},
		{"_HLS_msn=%zz", hlsQuery{}, false},
		{"a=" + strings.Repeat("x", maxQueryLen), hlsQuery{}, false},
	}
	for _, tt := range tests {
		got, err := parseHLSQuery(tt.raw)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, errBadQuery)) {
			t.Errorf("%q: error %v", tt.raw, err)
			continue
		}
		if tt.ok && got != tt.want {
			t.Errorf("%q: %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func FuzzHLSQuery(f *testing.F) {
	for _, s := range []string{"", "_HLS_msn=1", "_HLS_msn=1&_HLS_part=2&_HLS_skip=YES", "_HLS_part=0", "_HLS_skip=v2;x", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseHLSQuery(raw)
		if err != nil {
			if !errors.Is(err, errBadQuery) {
				t.Fatalf("error %v is not errBadQuery", err)
			}
			return
		}
		if q.msn < 0 || q.msn > maxMSN || q.part < -1 || q.part >= MaxPartsPerSegment || (q.part >= 0 && !q.block) {
			t.Fatalf("%q gave %+v", raw, q)
		}
	})
}
