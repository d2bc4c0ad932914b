package playback

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Format limits.
const (
	// Version is the token format version written by Sign.
	Version = 1
	// MaxKidLen is the longest key id, in bytes.
	MaxKidLen = 32
	// MaxScopeLen is the longest scope, in bytes.
	MaxScopeLen = 128
	// MaxSessionLen is the longest session id, in bytes.
	MaxSessionLen = 64
	// MaxTokenLen is the longest token string ParsePath and Verify accept.
	MaxTokenLen = 512
	// MinSecretLen is the shortest key secret Sign and Verify accept.
	MinSecretLen = 16
	// CoursePrefix starts a scope that covers every asset of a course.
	CoursePrefix = "course:"

	tagLen    = 32
	maxExpiry = 253402300799 // 9999-12-31T23:59:59Z
	macDomain = "classmesh/playback/v1\x00"

	famNone = 0
	famV4   = 4
	famV6   = 6
)

// Sentinel errors. Errors returned by this package wrap exactly one of them;
// Reason maps them to stable codes.
var (
	ErrMalformed     = errors.New("playback: malformed token")
	ErrUnknownKid    = errors.New("playback: unknown key id")
	ErrKeyInactive   = errors.New("playback: key not active")
	ErrBadSignature  = errors.New("playback: bad signature")
	ErrExpired       = errors.New("playback: token expired")
	ErrOutOfScope    = errors.New("playback: token does not cover this asset")
	ErrWrongSubnet   = errors.New("playback: client address outside token subnet")
	ErrInvalidClaims = errors.New("playback: invalid claims")
	ErrInvalidKey    = errors.New("playback: invalid key")
)

var reasons = []struct {
	err  error
	code string
}{
	{ErrMalformed, "malformed"},
	{ErrUnknownKid, "unknown_kid"},
	{ErrKeyInactive, "key_inactive"},
	{ErrBadSignature, "bad_signature"},
	{ErrExpired, "expired"},
	{ErrOutOfScope, "out_of_scope"},
	{ErrWrongSubnet, "wrong_subnet"},
	{ErrInvalidClaims, "invalid_claims"},
	{ErrInvalidKey, "invalid_key"},
}

// Reason returns the stable reason code of err for a 403 body: one of
// "malformed", "unknown_kid", "key_inactive", "bad_signature", "expired",
// "out_of_scope", "wrong_subnet" (and "invalid_claims", "invalid_key" for
// Sign errors). It returns "" for nil and "internal" for foreign errors.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.code
		}
	}
	return "internal"
}

// Key is an HMAC signing key. A zero NotBefore or NotAfter leaves that side
// of the validity window open; the window is [NotBefore, NotAfter).
type Key struct {
	Kid       string
	Secret    []byte
	NotBefore time.Time
	NotAfter  time.Time
}

// activeAt reports whether t lies in the key's validity window widened by
// leeway on both sides.
func (k Key) activeAt(t time.Time, leeway time.Duration) bool {
	if !k.NotBefore.IsZero() && t.Add(leeway).Before(k.NotBefore) {
		return false
	}
	if !k.NotAfter.IsZero() && !t.Add(-leeway).Before(k.NotAfter) {
		return false
	}
	return true
}

// Claims is what a token grants. Expiry has one-second resolution (Sign
// truncates it). A zero Subnet means any client; an empty Session means none.
type Claims struct {
	Kid     string
	Expiry  time.Time
	Scope   string
	Subnet  netip.Prefix
	Session string
}

// CourseScope returns the scope covering every asset of course id.
func CourseScope(id string) string { return CoursePrefix + id }

// validate checks the claims against the format limits.
func (c Claims) validate() error {
	switch {
	case !validChars(c.Kid, 1, MaxKidLen, false):
		return fmt.Errorf("%w: kid must be 1-%d of [A-Za-z0-9._-]", ErrInvalidClaims, MaxKidLen)
	case !validChars(c.Scope, 1, MaxScopeLen, true):
		return fmt.Errorf("%w: scope must be 1-%d of [A-Za-z0-9._:-]", ErrInvalidClaims, MaxScopeLen)
	case !validChars(c.Session, 0, MaxSessionLen, false):
		return fmt.Errorf("%w: session must be 0-%d of [A-Za-z0-9._-]", ErrInvalidClaims, MaxSessionLen)
	case c.Expiry.Unix() < 1 || c.Expiry.Unix() > maxExpiry:
		return fmt.Errorf("%w: expiry %v out of range", ErrInvalidClaims, c.Expiry)
	case c.Subnet != (netip.Prefix{}) && !c.Subnet.IsValid():
		return fmt.Errorf("%w: subnet %v", ErrInvalidClaims, c.Subnet)
	}
	return nil
}

// validChars reports whether s has length in [lo, hi] and only id bytes
// (plus ':' when colon is set).
func validChars(s string, lo, hi int, colon bool) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '.' || b == '_' || b == '-' || colon && b == ':'
		if !ok {
			return false
		}
	}
	return true
}

// appendPayload appends the binary payload of valid claims c to dst.
func appendPayload(dst []byte, c Claims) []byte {
	dst = append(dst, Version, byte(len(c.Kid)))
	dst = append(dst, c.Kid...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.Expiry.Unix()))
	dst = append(dst, byte(len(c.Scope)))
	dst = append(dst, c.Scope...)
	switch {
	case !c.Subnet.IsValid():
		dst = append(dst, famNone)
	case c.Subnet.Addr().Is4():
		a := c.Subnet.Addr().As4()
		dst = append(append(dst, famV4), a[:]...)
		dst = append(dst, byte(c.Subnet.Bits()))
	default:
		a := c.Subnet.Addr().As16()
		dst = append(append(dst, famV6), a[:]...)
		dst = append(dst, byte(c.Subnet.Bits()))
	}
	dst = append(dst, byte(len(c.Session)))
	return append(dst, c.Session...)
}

// decodeToken decodes a token string into its claims, the signed payload
// and the tag. All failures wrap ErrMalformed.
func decodeToken(tok string) (Claims, []byte, []byte, error) {
	if len(tok) == 0 || len(tok) > MaxTokenLen {
		return Claims{}, nil, nil, fmt.Errorf("%w: length %d", ErrMalformed, len(tok))
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil {
		return Claims{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(raw) <= tagLen {
		return Claims{}, nil, nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	payload, tag := raw[:len(raw)-tagLen], raw[len(raw)-tagLen:]
	c, err := parsePayload(payload)
	if err != nil {
		return Claims{}, nil, nil, err
	}
	return c, payload, tag, nil
}

// parsePayload parses and validates a binary payload strictly.
func parsePayload(p []byte) (Claims, error) {
	r := reader{b: p}
	if v := r.byte(); v != Version {
		return Claims{}, fmt.Errorf("%w: version %d", ErrMalformed, v)
	}
	var c Claims
	c.Kid = r.str()
	sec := r.uint64()
	c.Scope = r.str()
	c.Subnet = r.prefix()
	c.Session = r.str()
	if r.bad || len(r.b) != 0 {
		return Claims{}, fmt.Errorf("%w: truncated or trailing payload", ErrMalformed)
	}
	if sec > maxExpiry {
		return Claims{}, fmt.Errorf("%w: expiry out of range", ErrMalformed)
	}
	c.Expiry = time.Unix(int64(sec), 0).UTC()
	if err := c.validate(); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c, nil
}

// reader consumes a payload; after the first short read bad is set and
// every further read returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) uint64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *reader) str() string {
	return string(r.take(int(r.byte())))
}

// prefix reads an optional subnet; it rejects unknown families, bad
// lengths and unmasked addresses.
func (r *reader) prefix() netip.Prefix {
	fam := r.byte()
	var addr netip.Addr
	switch fam {
	case famNone:
		return netip.Prefix{}
	case famV4:
		if b := r.take(4); b != nil {
			addr = netip.AddrFrom4([4]byte(b))
		}
	case famV6:
		if b := r.take(16); b != nil {
			addr = netip.AddrFrom16([16]byte(b))
		}
	default:
		r.bad = true
		return netip.Prefix{}
	}
	bits := int(r.byte())
	if r.bad || !addr.IsValid() || bits > addr.BitLen() {
		r.bad = true
		return netip.Prefix{}
	}
	p := netip.PrefixFrom(addr, bits)
	if p.Masked() != p {
		r.bad = true
		return netip.Prefix{}
	}
	return p
}
