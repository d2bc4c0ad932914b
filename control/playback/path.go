package playback

import "strings"

// ParsePath splits a request path of the form "/t/{token}/v/{rest}" into
// the token and "/v/{rest}". It is strict: the token must be 1 to
// MaxTokenLen characters of the URL-safe base64 alphabet and the remainder
// must start with "/v/" followed by at least one byte. It only checks the
// shape; Verifier.Verify checks the token itself.
func ParsePath(p string) (token, rest string, ok bool) {
	s, found := strings.CutPrefix(p, "/t/")
	if !found {
		return "", "", false
	}
	i := strings.IndexByte(s, '/')
	if i < 1 || i > MaxTokenLen {
		return "", "", false
	}
	token, rest = s[:i], s[i:]
	if len(rest) <= len("/v/") || !strings.HasPrefix(rest, "/v/") || !base64URL(token) {
		return "", "", false
	}
	return token, rest, true
}

// base64URL reports whether s uses only the unpadded URL-safe base64
// alphabet.
func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}
