package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		id        string
		valid     bool
		validNode bool
	}{
		{"intro-to-physics", true, true},
		{"_intro", true, true},
		{"0day", true, true},
		{"lecture.v2", true, true},
		{"a..b", true, true},
		{"A_b-C.9", true, true},
		{strings.Repeat("a", 64), true, true},
		{strings.Repeat("a", 65), true, false},
		{strings.Repeat("a", 128), true, false},
		{strings.Repeat("a", 129), false, false},
		{strings.Repeat("a", 200), false, false},
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{".hidden", false, false},
		{"-flag", false, false},
		{"a/b", false, false},
		{"a b", false, false},
		{"a%2F", false, false},
		{"é", false, false},
		{"a\x00", false, false},
	}
	for _, tt := range tests {
		if got := Valid(tt.id); got != tt.valid {
			t.Errorf("Valid(%q) = %v, want %v", tt.id, got, tt.valid)
		}
		if got := ValidNode(tt.id); got != tt.validNode {
			t.Errorf("ValidNode(%q) = %v, want %v", tt.id, got, tt.validNode)
		}
		if err := Check(tt.id); (err == nil) != tt.valid || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v", tt.id, err)
		}
		if tt.valid && CheckStored(tt.id) != nil {
			t.Errorf("CheckStored(%q) refuses a valid id", tt.id)
		}
	}
	for _, id := range []string{".x", "-x", ".", ".."} {
		if err := CheckStored(id); err != nil {
			t.Errorf("CheckStored(%q) = %v; catalogs written before the rule accepted it", id, err)
		}
	}
	for _, id := range []string{"", "a/b", strings.Repeat("a", 129)} {
		if CheckStored(id) == nil {
			t.Errorf("CheckStored(%q) accepted", id)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"intro", "_intro", ".", "..", "-x", strings.Repeat("z", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !Valid(s) {
			if ValidNode(s) {
				t.Fatalf("%q is a node id but not an id", s)
			}
			return
		}
		if s == "." || s == ".." || s[0] == '.' || s[0] == '-' || len(s) > MaxLen {
			t.Fatalf("Valid(%q)", s)
		}
		for _, c := range []byte(s) {
			if c == '/' || c == '\\' || c < 0x21 || c > 0x7e || c == '%' {
				t.Fatalf("Valid(%q) with byte %q", s, c)
			}
		}
	})
}
