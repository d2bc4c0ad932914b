// Package ident is classmesh's one rule for identifiers: asset, rendition,
// course, module, lesson, session, site, key and token ids, and (with a
// shorter limit) node ids.
//
// An identifier is 1 to MaxLen bytes of ASCII letters, digits, '.', '_'
// and '-', and starts with a letter, a digit or '_'. So "." and ".." are
// never ids, no id is a hidden file name or looks like a command-line flag,
// and every id is safe as a URL path segment, a file name, a bbolt key and
// a TLS DNS name without escaping. Node ids follow the same rule with at
// most MaxNodeLen bytes, because they are the common name of the node's
// certificate (RFC 5280 bounds a common name to 64 characters).
//
// Every place that accepts an id from outside (the media indexer, the HTTP
// routes, the catalog's validation, the cluster) calls this package, so an
// id that is indexed is also servable and registrable.
package ident

import (
	"errors"
	"fmt"
)

// Limits.
const (
	// MaxLen is the longest identifier in bytes.
	MaxLen = 128
	// MaxNodeLen is the longest node id in bytes.
	MaxNodeLen = 64
)

// ErrInvalid wraps every error returned by Check and CheckNode.
var ErrInvalid = errors.New("ident: invalid identifier")

// Check returns nil if s is a valid identifier, or an error wrapping
// ErrInvalid that says which part of the rule s breaks.
func Check(s string) error { return check(s, MaxLen) }

// CheckNode is Check for node ids (at most MaxNodeLen bytes).
func CheckNode(s string) error { return check(s, MaxNodeLen) }

// Valid reports whether s is a valid identifier.
func Valid(s string) bool { return check(s, MaxLen) == nil }

// ValidNode reports whether s is a valid node id.
func ValidNode(s string) bool { return check(s, MaxNodeLen) == nil }

// CheckStored is the looser rule of catalogs written before this package:
// Check without the first-character rule. The catalog's state machine
// applies it to log entries, so that replaying an old log, or a cluster in
// the middle of a rolling upgrade, applies every entry the same way on every
// node; a new id is checked with Check before it enters the log.
func CheckStored(s string) error { return checkFrom(s, MaxLen, 0) }

func check(s string, max int) error { return checkFrom(s, max, 1) }

// checkFrom checks s, applying the first-character rule only when from is 1.
func checkFrom(s string, max, from int) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalid, len(s), max)
	}
	if from == 1 && !first(s[0]) {
		return fmt.Errorf("%w: %q starts with %q; the first character must be a letter, a digit or '_'", ErrInvalid, s, s[0])
	}
	for i := from; i < len(s); i++ {
		if c := s[i]; !first(c) && c != '.' && c != '-' {
			return fmt.Errorf("%w: %q has %q at byte %d; only letters, digits, '.', '_' and '-' are allowed", ErrInvalid, s, c, i)
		}
	}
	return nil
}

// first reports whether c may start an identifier.
func first(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
