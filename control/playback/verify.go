package playback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Sign returns a token granting c, signed with k. An empty c.Kid takes
// k.Kid; a different one is an error. Expiry is truncated to whole seconds
// and Subnet is normalised (NormalizeSubnet: masked, IPv4-mapped prefixes
// become IPv4). Sign does not check the key's validity window: a
// caller choosing which key to sign with should pick one active now.
func Sign(k Key, c Claims) (string, error) {
	if err := k.validate(); err != nil {
		return "", err
	}
	if c.Kid == "" {
		c.Kid = k.Kid
	}
	if c.Kid != k.Kid {
		return "", fmt.Errorf("%w: kid %q does not match key %q", ErrInvalidClaims, c.Kid, k.Kid)
	}
	var err error
	if c.Subnet, err = NormalizeSubnet(c.Subnet); err != nil {
		return "", err
	}
	if err := c.validate(); err != nil {
		return "", err
	}
	payload := appendPayload(make([]byte, 0, 64), c)
	raw := append(payload, mac(k.Secret, payload)...)
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// validate checks the key's id and secret.
func (k Key) validate() error {
	if !validChars(k.Kid, 1, MaxKidLen, false) {
		return fmt.Errorf("%w: kid must be 1-%d of [A-Za-z0-9._-]", ErrInvalidKey, MaxKidLen)
	}
	if len(k.Secret) < MinSecretLen {
		return fmt.Errorf("%w: secret shorter than %d bytes", ErrInvalidKey, MinSecretLen)
	}
	return nil
}

// mac computes the domain-separated tag of payload.
func mac(secret, payload []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(macDomain))
	h.Write(payload)
	return h.Sum(nil)
}

// Verifier checks tokens against a changing key set. The zero value rejects
// every token with ErrUnknownKid. It holds no state and is safe for
// concurrent use if Keys and Now are.
type Verifier struct {
	// Keys returns the current keys; several may be active at once
	// (rotation), and keys with secrets shorter than MinSecretLen are
	// ignored. Nil means no keys. It is called once per Verify; the
	// returned slice must not be modified afterwards.
	Keys func() []Key
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Leeway is the tolerated clock skew, applied to the token expiry and
	// to both ends of key validity windows. Zero means none.
	Leeway time.Duration
}

// Verify checks that token is genuine, current and grants client access to
// asset, which belongs to course courseID (empty if none). It returns the
// token's claims, or an error wrapping one of ErrMalformed, ErrUnknownKid,
// ErrKeyInactive, ErrBadSignature, ErrExpired, ErrOutOfScope or
// ErrWrongSubnet (see Reason).
func (v Verifier) Verify(token, asset, courseID string, client netip.Addr) (Claims, error) {
	c, payload, tag, err := decodeToken(token)
	if err != nil {
		return Claims{}, err
	}
	now := v.now()
	if err := v.checkTag(c.Kid, payload, tag, now); err != nil {
		return Claims{}, err
	}
	if !now.Add(-v.Leeway).Before(c.Expiry) {
		return Claims{}, fmt.Errorf("%w: at %s", ErrExpired, c.Expiry.Format(time.RFC3339))
	}
	if !inScope(c.Scope, asset, courseID) {
		return Claims{}, fmt.Errorf("%w: scope %q, asset %q", ErrOutOfScope, c.Scope, asset)
	}
	if !inSubnet(c.Subnet, client) {
		return Claims{}, fmt.Errorf("%w: %v not in %v", ErrWrongSubnet, client, c.Subnet)
	}
	return c, nil
}

// checkTag finds the keys named kid, keeps those active at now and accepts
// the tag if any of them produced it.
func (v Verifier) checkTag(kid string, payload, tag []byte, now time.Time) error {
	var keys []Key
	if v.Keys != nil {
		keys = v.Keys()
	}
	known, active := false, false
	for _, k := range keys {
		if k.Kid != kid || len(k.Secret) < MinSecretLen {
			continue
		}
		known = true
		if !k.activeAt(now, v.Leeway) {
			continue
		}
		active = true
		if hmac.Equal(tag, mac(k.Secret, payload)) {
			return nil
		}
	}
	switch {
	case !known:
		return fmt.Errorf("%w: %q", ErrUnknownKid, kid)
	case !active:
		return fmt.Errorf("%w: %q", ErrKeyInactive, kid)
	}
	return ErrBadSignature
}

func (v Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// inScope reports whether scope covers asset of course courseID. A
// "course:" scope only ever matches through the course, never as an asset.
func inScope(scope, asset, courseID string) bool {
	if id, ok := strings.CutPrefix(scope, CoursePrefix); ok {
		return courseID != "" && id == courseID
	}
	return asset != "" && scope == asset
}

// inSubnet reports whether client is allowed by the optional subnet; an
// IPv4-mapped IPv6 client matches an IPv4 subnet.
//
// A token signed before Sign normalised subnets may carry an IPv4-mapped
// prefix; it is normalised here too, so it matches IPv4 clients (a mapped
// prefix that cannot be normalised matches nothing).
func inSubnet(subnet netip.Prefix, client netip.Addr) bool {
	if !subnet.IsValid() {
		return true
	}
	subnet, err := NormalizeSubnet(subnet)
	if err != nil {
		return false
	}
	if subnet.Addr().Is4() {
		client = client.Unmap()
	}
	return subnet.Contains(client)
}
