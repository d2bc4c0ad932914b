package segsource

import (
	"bytes"
	"testing"
)

func TestSkipWriterResumesABody(t *testing.T) {
	body := []byte("0123456789abcdefghij")
	tests := []struct {
		name   string
		skip   int64
		chunks []int
	}{
		{"skip inside first write", 3, []int{5, 15}},
		{"skip ends on a boundary", 5, []int{5, 15}},
		{"skip spans writes", 12, []int{4, 4, 4, 8}},
		{"nothing to skip", 0, []int{20}},
		{"skip everything", 20, []int{7, 13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			sw := &skipWriter{w: &out, skip: tt.skip}
			off := 0
			for _, n := range tt.chunks {
				if k, err := sw.Write(body[off : off+n]); k != n || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", n, k, err)
				}
				off += n
			}
			if got := out.String(); got != string(body[tt.skip:]) {
				t.Fatalf("wrote %q, want %q", got, body[tt.skip:])
			}
		})
	}
}
