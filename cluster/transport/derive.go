package transport

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// HKDF parameters. Every key derived from the cluster secret uses the same
// salt and its own info string, so keys for different purposes are
// independent. The gossip and stateless-reset infos live with their users
// in package cluster.
const (
	hkdfSalt = "classmesh"
	// InfoCA is the HKDF info of the CA key seed.
	InfoCA = "ca v1"
)

// DeriveKey runs HKDF-SHA256 over secret with salt "classmesh" and the
// given info, returning n bytes. n must be at most 255*32.
func DeriveKey(secret, info string, n int) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte(hkdfSalt), info, n)
	if err != nil { // only for n > 255*32, a programming error
		panic("cluster: hkdf: " + err.Error())
	}
	return k
}
