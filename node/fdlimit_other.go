//go:build !unix

package node

// fdLimit is unknown on this platform.
func fdLimit() int { return 0 }
