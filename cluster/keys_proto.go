package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// KeysALPN is the ALPN of the gossip key rotation protocol.
const KeysALPN = "classmesh-keys/1"

// ErrBadKeysMessage is wrapped by every keys protocol decoding error.
var ErrBadKeysMessage = errors.New("cluster: bad keys message")

// KeyOp is a keyring operation.
type KeyOp uint8

// Keyring operations, applied in this order during a rotation.
const (
	KeyInstall KeyOp = 1
	KeyUse     KeyOp = 2
	KeyRemove  KeyOp = 3
)

// String returns the operation name.
func (o KeyOp) String() string {
	switch o {
	case KeyInstall:
		return "install"
	case KeyUse:
		return "use"
	case KeyRemove:
		return "remove"
	}
	return fmt.Sprintf("keyop(%d)", uint8(o))
}

// Wire format. Request: magic "CMK\x01" | op u8 | key length u8 | key.
// Response: magic "CMk\x01" | ok u8 (1 = ok, 0 = failed) | message length
// u16 | UTF-8 message (at most maxKeysMsg bytes).
var (
	magicKeysReq  = [4]byte{'C', 'M', 'K', 1}
	magicKeysResp = [4]byte{'C', 'M', 'k', 1}
)

const maxKeysMsg = 512

type keysRequest struct {
	Op  KeyOp
	Key []byte
}

type keysResponse struct {
	OK  bool
	Msg string
}

func (r keysRequest) marshal() []byte {
	b := append(magicKeysReq[:], byte(r.Op), byte(len(r.Key)))
	return append(b, r.Key...)
}

func (r keysResponse) marshal() []byte {
	msg := truncUTF8(r.Msg, maxKeysMsg)
	b := append(magicKeysResp[:], 0)
	if r.OK {
		b[4] = 1
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...)
}

// decodeKeysRequest reads one request; it never reads more than 38 bytes.
func decodeKeysRequest(r io.Reader) (keysRequest, error) {
	var h [6]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return keysRequest{}, fmt.Errorf("%w: header: %v", ErrBadKeysMessage, err)
	}
	if [4]byte(h[:4]) != magicKeysReq {
		return keysRequest{}, fmt.Errorf("%w: magic %q", ErrBadKeysMessage, h[:4])
	}
	op := KeyOp(h[4])
	if op < KeyInstall || op > KeyRemove {
		return keysRequest{}, fmt.Errorf("%w: op %d", ErrBadKeysMessage, h[4])
	}
	if !validKeyLen(int(h[5])) {
		return keysRequest{}, fmt.Errorf("%w: key length %d", ErrBadKeysMessage, h[5])
	}
	key := make([]byte, h[5])
	if _, err := io.ReadFull(r, key); err != nil {
		return keysRequest{}, fmt.Errorf("%w: key: %v", ErrBadKeysMessage, err)
	}
	return keysRequest{Op: op, Key: key}, nil
}

// decodeKeysResponse reads one response.
func decodeKeysResponse(r io.Reader) (keysResponse, error) {
	var h [7]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return keysResponse{}, fmt.Errorf("%w: header: %v", ErrBadKeysMessage, err)
	}
	if [4]byte(h[:4]) != magicKeysResp {
		return keysResponse{}, fmt.Errorf("%w: magic %q", ErrBadKeysMessage, h[:4])
	}
	if h[4] > 1 {
		return keysResponse{}, fmt.Errorf("%w: status %d", ErrBadKeysMessage, h[4])
	}
	n := binary.BigEndian.Uint16(h[5:])
	if n > maxKeysMsg {
		return keysResponse{}, fmt.Errorf("%w: message of %d bytes", ErrBadKeysMessage, n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return keysResponse{}, fmt.Errorf("%w: message: %v", ErrBadKeysMessage, err)
	}
	if !utf8.Valid(msg) {
		return keysResponse{}, fmt.Errorf("%w: message not UTF-8", ErrBadKeysMessage)
	}
	return keysResponse{OK: h[4] == 1, Msg: string(msg)}, nil
}
