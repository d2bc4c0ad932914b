package rtmp

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Handshake sizes (RTMP 1.0 section 5.2).
const (
	rtmpVersion   = 3
	handshakeSize = 1536
)

// serverHandshake runs the server side of the simple handshake on rw: read
// C0 and C1, send S0, S1 and S2 (S2 echoes C1 byte for byte, which clients
// that check the echo expect), read C2. S1's second field is zero, which tells clients
// that do the digest handshake that this server does not, so they fall
// back to the simple one. epoch is S1's time field.
func serverHandshake(rw io.ReadWriter, epoch uint32) error {
	var c0c1 [1 + handshakeSize]byte
	if _, err := io.ReadFull(rw, c0c1[:1]); err != nil {
		return fmt.Errorf("rtmp: handshake: read C0: %w", err)
	}
	switch v := c0c1[0]; v {
	case rtmpVersion:
	case 6, 8, 9:
		return fmt.Errorf("%w encrypted RTMP (RTMPE, version %d)", ErrUnsupported, v)
	default:
		return fmt.Errorf("%w: handshake version 0x%02x is not RTMP", ErrProtocol, v)
	}
	if _, err := io.ReadFull(rw, c0c1[1:]); err != nil {
		return fmt.Errorf("rtmp: handshake: read C1: %w", err)
	}
	c1 := c0c1[1:]
	out := make([]byte, 1+2*handshakeSize)
	out[0] = rtmpVersion
	s1 := out[1 : 1+handshakeSize]
	putU32(s1[0:], epoch)
	fillRandom(s1[8:])
	copy(out[1+handshakeSize:], c1) // S2: an exact echo; librtmp compares all of it
	if _, err := rw.Write(out); err != nil {
		return fmt.Errorf("rtmp: handshake: write S0S1S2: %w", err)
	}
	var c2 [handshakeSize]byte
	if _, err := io.ReadFull(rw, c2[:]); err != nil {
		return fmt.Errorf("rtmp: handshake: read C2: %w", err)
	}
	return nil
}

// clientHandshake is the client side, for tests and tools: send C0 and C1,
// read S0, S1 and S2, send C2 (the echo of S1).
func clientHandshake(rw io.ReadWriter) error {
	c0c1 := make([]byte, 1+handshakeSize)
	c0c1[0] = rtmpVersion
	putU32(c0c1[1:], uint32(time.Now().UnixMilli()))
	fillRandom(c0c1[9:])
	if _, err := rw.Write(c0c1); err != nil {
		return fmt.Errorf("rtmp: handshake: write C0C1: %w", err)
	}
	s := make([]byte, 1+2*handshakeSize)
	if _, err := io.ReadFull(rw, s); err != nil {
		return fmt.Errorf("rtmp: handshake: read S0S1S2: %w", err)
	}
	if s[0] != rtmpVersion {
		return fmt.Errorf("%w: server version %d", ErrProtocol, s[0])
	}
	if string(s[1+handshakeSize:]) != string(c0c1[1:]) {
		return fmt.Errorf("%w: S2 does not echo C1", ErrProtocol)
	}
	if _, err := rw.Write(s[1 : 1+handshakeSize]); err != nil {
		return fmt.Errorf("rtmp: handshake: write C2: %w", err)
	}
	return nil
}

// fillRandom fills b with non-cryptographic random bytes: the handshake's
// random field only has to differ between connections.
func fillRandom(b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func putU24(b []byte, v uint32) {
	b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
}

func u24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

func u32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
