package httprange

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	many := "bytes=" + strings.Repeat("0-0,", 60000) + "0-0"
	var disjoint []string
	for i := range MaxParts + 1 {
		disjoint = append(disjoint, strconv.Itoa(10*i)+"-"+strconv.Itoa(10*i+1))
	}
	for _, tc := range []struct {
		header string
		size   int64
		want   []Range
		err    error
	}{
		{"bytes=0-99", 1000, []Range{{0, 100}}, nil},
		{"bytes=0-", 1000, []Range{{0, 1000}}, nil},
		{"bytes=990-2000", 1000, []Range{{990, 10}}, nil},
		{"bytes=-10", 1000, []Range{{990, 10}}, nil},
		{"bytes=-5000", 1000, []Range{{0, 1000}}, nil},
		{"Bytes = 0-0", 1000, []Range{{0, 1}}, nil},
		{"bytes=0-0, ,5-5", 1000, []Range{{0, 1}, {5, 1}}, nil},
		// Overlapping and adjacent ranges are merged, in any order.
		{"bytes=50-99,0-49", 1000, []Range{{0, 100}}, nil},
		{"bytes=0-10,5-20,-980", 1000, []Range{{0, 1000}}, nil},
		{"bytes=0-1,3-4", 1000, []Range{{0, 2}, {3, 2}}, nil},
		// The empty suffix and ranges past the end cannot be satisfied.
		{"bytes=-0", 1000, nil, ErrUnsatisfiable},
		{"bytes=1000-", 1000, nil, ErrUnsatisfiable},
		{"bytes=0-0", 0, nil, ErrUnsatisfiable},
		{"bytes=-1", 0, nil, ErrUnsatisfiable},
		{"bytes=2000-3000,-0", 1000, nil, ErrUnsatisfiable},
		{"bytes=2000-3000,5-5", 1000, []Range{{5, 1}}, nil},
		// Malformed headers are ignored.
		{"", 1000, nil, ErrSyntax},
		{"bytes=", 1000, nil, ErrSyntax},
		{"bytes=,", 1000, nil, ErrSyntax},
		{"items=0-1", 1000, nil, ErrSyntax},
		{"bytes=5-1", 1000, nil, ErrSyntax},
		{"bytes=+1-2", 1000, nil, ErrSyntax},
		{"bytes=1-+2", 1000, nil, ErrSyntax},
		{"bytes=-", 1000, nil, ErrSyntax},
		{"bytes=1", 1000, nil, ErrSyntax},
		{"bytes=1 -2", 1000, nil, ErrSyntax},
		{"bytes=0x1-2", 1000, nil, ErrSyntax},
		{"bytes=99999999999999999999-", 1000, nil, ErrSyntax},
		// Too many: listed, or left after merging.
		{many, 1000, nil, ErrTooMany},
		{"bytes=" + strings.Repeat("0-0,", MaxListed-1) + "0-0", 1000, []Range{{0, 1}}, nil},
		{"bytes=" + strings.Join(disjoint, ","), 1000, nil, ErrTooMany},
		{"bytes=" + strings.Join(disjoint[:MaxParts], ","), 1000, nil, nil},
	} {
		got, err := Parse(tc.header, tc.size)
		if !errors.Is(err, tc.err) {
			t.Errorf("Parse(%.40q, %d) error %v, want %v", tc.header, tc.size, err, tc.err)
			continue
		}
		if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%.40q, %d) = %v, want %v", tc.header, tc.size, got, tc.want)
		}
	}
}

// TestApply checks the answers http.ServeContent gives after Apply
// (finding 7: "bytes=-0" answered 206 with an invalid Content-Range, and a
// 60 000-part Range answered 7.6 MB).
func TestApply(t *testing.T) {
	body := strings.Repeat("0123456789", 100) // 1000 bytes
	const tag = `"abc"`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", tag)
		if Apply(w, r, int64(len(body))) == Unsatisfiable {
			return
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(body))
	})
	for _, tc := range []struct {
		name, rng, ifRange string
		code               int
		contentRange       string
		maxBody            int
	}{
		{"empty suffix", "bytes=-0", "", 416, "bytes */1000", 100},
		{"past the end", "bytes=1000-", "", 416, "bytes */1000", 100},
		{"one", "bytes=10-19", "", 206, "bytes 10-19/1000", 10},
		{"overlapping merged", "bytes=10-19,15-29,0-9", "", 206, "bytes 0-29/1000", 30},
		{"60000 parts", "bytes=" + strings.Repeat("0-0,", 59999) + "0-0", "", 200, "", 1000},
		{"17 disjoint", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,30-30,32-32", "", 200, "", 1000},
		{"malformed", "bytes=9-1", "", 200, "", 1000},
		{"if-range other", "bytes=-0", `"old"`, 200, "", 1000},
		{"if-range same", "bytes=0-0", tag, 206, "bytes 0-0/1000", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Range", tc.rng)
			if tc.ifRange != "" {
				req.Header.Set("If-Range", tc.ifRange)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.code || res.Header.Get("Content-Range") != tc.contentRange || len(b) > tc.maxBody {
				t.Errorf("%s: %d Content-Range %q, %d bytes; want %d %q, at most %d bytes",
					tc.rng[:min(len(tc.rng), 40)], res.StatusCode, res.Header.Get("Content-Range"), len(b), tc.code, tc.contentRange, tc.maxBody)
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-0", "bytes=-5,0-1,3-", "bytes=1-0", "bytes= 0-0 , 2-2", "x=1-2", "bytes=" + strings.Repeat("1-1,", 300)} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -size
			if size < 0 {
				size = 0
			}
		}
		rs, err := Parse(header, size)
		if err != nil {
			if rs != nil {
				t.Fatalf("ranges with error %v", err)
			}
			return
		}
		if len(rs) == 0 || len(rs) > MaxParts {
			t.Fatalf("%d ranges", len(rs))
		}
		var prevEnd int64 = -1
		for _, r := range rs {
			if r.Length <= 0 || r.Start < 0 || r.end() > size || r.Start <= prevEnd {
				t.Fatalf("bad range %+v (size %d, previous end %d) in %v", r, size, prevEnd, rs)
			}
			prevEnd = r.end()
		}
		again, err := Parse(Format(rs), size)
		if err != nil || !reflect.DeepEqual(again, rs) {
			t.Fatalf("Format %q parses to %v, %v; want %v", Format(rs), again, err, rs)
		}
	})
}
