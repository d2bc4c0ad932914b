package playback

import (
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	long := strings.Repeat("A", MaxTokenLen)
	tests := []struct {
		name, path, token, rest string
		ok                      bool
	}{
		{"playlist", "/t/abc-_09/v/intro/master.m3u8", "abc-_09", "/v/intro/master.m3u8", true},
		{"segment", "/t/X/v/a/720p/seg-001.m4s", "X", "/v/a/720p/seg-001.m4s", true},
		{"max length", "/t/" + long + "/v/a", long, "/v/a", true},
		{"oversized", "/t/" + long + "A/v/a", "", "", false},
		{"empty token", "/t//v/a", "", "", false},
		{"no token", "/t/", "", "", false},
		{"no rest", "/t/abc", "", "", false},
		{"bare v", "/t/abc/v/", "", "", false},
		{"v without slash", "/t/abc/v", "", "", false},
		{"wrong rest", "/t/abc/x/a", "", "", false},
		{"padding", "/t/abc=/v/a", "", "", false},
		{"plus", "/t/ab+c/v/a", "", "", false},
		{"std slash alphabet", "/t/a%2Fb/v/a", "", "", false},
		{"dot", "/t/a.b/v/a", "", "", false},
		{"no leading slash", "t/abc/v/a", "", "", false},
		{"not token path", "/v/intro/master.m3u8", "", "", false},
		{"double slash", "/t/abc//v/a", "", "", false},
		{"empty", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, rest, ok := ParsePath(tt.path)
			if tok != tt.token || rest != tt.rest || ok != tt.ok {
				t.Fatalf("ParsePath(%q) = %q, %q, %v; want %q, %q, %v",
					tt.path, tok, rest, ok, tt.token, tt.rest, tt.ok)
			}
		})
	}
}

func TestParsePathSignedToken(t *testing.T) {
	tok := mustSign(t, keyA, baseClaims())
	got, rest, ok := ParsePath("/t/" + tok + "/v/intro/index.m3u8")
	if !ok || got != tok || rest != "/v/intro/index.m3u8" {
		t.Fatalf("ParsePath = %q, %q, %v", got, rest, ok)
	}
}
