package remote

import (
	"fmt"
	"io"

	"github.com/classmesh/classmesh/internal/frame"
)

// ALPN is the ALPN of the remote-origin protocol. A member that
// advertises the origin role serves it.
const ALPN = "classmesh-origin/1"

// Protocol bounds.
const (
	// MaxRead bounds the length of one READ request.
	MaxRead = 8 << 20
	// MaxList bounds the encoded asset list of one LIST answer.
	MaxList = 16 << 20

	maxIdentity = 256
	maxPath     = 1024
	maxMessage  = frame.MaxMessage
)

// Frame magics: "CM" + kind + version.
var (
	magicRequest  = [4]byte{'C', 'M', 'O', 1}
	magicResponse = [4]byte{'C', 'M', 'o', 1}
)

// Op is a remote-origin request type.
type Op uint8

// Remote-origin operations.
const (
	// OpList asks for the asset list (JSON array of origin.AssetSpec).
	OpList Op = iota + 1
	// OpStat asks for a file's size and identity.
	OpStat
	// OpRead asks for Length bytes at Offset of a file.
	OpRead
)

var opNames = [...]string{"invalid", "list", "stat", "read"}

// String returns "list", "stat" or "read", and "invalid" for any other
// value (a metric label).
func (o Op) String() string {
	if o >= OpList && o <= OpRead {
		return opNames[o]
	}
	return opNames[0]
}

// Request is one remote-origin request.
//
// Wire payload (magic "CMO\x01"): op uint8 | path (uint16 length, at most
// 1 KiB) | offset int64 | length int64. Path is empty for LIST; Offset and
// Length are zero except for READ.
type Request struct {
	Op     Op
	Path   string
	Offset int64
	Length int64
}

// Validate checks the request's shape (not the path's safety: the server
// runs origin.CleanPath on it). Errors wrap frame.ErrMalformed.
func (r Request) Validate() error {
	bad := frame.ErrMalformed
	switch {
	case r.Op < OpList || r.Op > OpRead:
		return fmt.Errorf("%w: unknown op %d", bad, r.Op)
	case len(r.Path) > maxPath || !frame.Printable(r.Path):
		return fmt.Errorf("%w: path too long or not printable", bad)
	case r.Op == OpList && r.Path != "":
		return fmt.Errorf("%w: LIST takes no path", bad)
	case r.Op != OpList && r.Path == "":
		return fmt.Errorf("%w: path required", bad)
	case r.Offset < 0:
		return fmt.Errorf("%w: negative offset", bad)
	case r.Length < 0 || r.Length > MaxRead:
		return fmt.Errorf("%w: length %d out of [0, %d]", bad, r.Length, MaxRead)
	case r.Op != OpRead && (r.Offset != 0 || r.Length != 0):
		return fmt.Errorf("%w: offset and length only with READ", bad)
	}
	return nil
}

// MarshalBinary encodes the request as a complete frame.
func (r Request) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var e frame.Encoder
	e.U8(uint8(r.Op))
	e.Str(r.Path)
	e.U64(uint64(r.Offset))
	e.U64(uint64(r.Length))
	return e.Frame(magicRequest)
}

// DecodeRequest reads one request frame from rd. Malformed frames wrap
// frame.ErrMalformed.
func DecodeRequest(rd io.Reader) (Request, error) {
	p, err := frame.Read(rd, magicRequest)
	if err != nil {
		return Request{}, err
	}
	d := frame.NewDecoder(p)
	r := Request{Op: Op(d.U8())}
	r.Path = d.Str("path", maxPath)
	r.Offset = int64(d.U64())
	r.Length = int64(d.U64())
	if err := d.End(); err != nil {
		return Request{}, err
	}
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// response is the header of a remote-origin answer; Size body bytes
// follow for a successful LIST or READ.
//
// Wire payload (magic "CMo\x01"): status uint8 | size int64 | identity (at
// most 256 bytes) | message.
type response struct {
	Status   Status
	Size     int64 // STAT: file size; LIST/READ: body length
	Identity string
	Message  string
}

func (h response) validate() error {
	bad := frame.ErrMalformed
	switch {
	case !h.Status.valid():
		return fmt.Errorf("%w: unknown status %d", bad, h.Status)
	case h.Size < 0:
		return fmt.Errorf("%w: negative size", bad)
	case len(h.Identity) > maxIdentity || !frame.Printable(h.Identity):
		return fmt.Errorf("%w: identity too long or not printable", bad)
	case len(h.Message) > maxMessage || !frame.Printable(h.Message):
		return fmt.Errorf("%w: message too long or not printable", bad)
	}
	return nil
}

func (h response) marshal() ([]byte, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	var e frame.Encoder
	e.U8(uint8(h.Status))
	e.U64(uint64(h.Size))
	e.Str(h.Identity)
	e.Str(h.Message)
	return e.Frame(magicResponse)
}

func decodeResponse(rd io.Reader) (response, error) {
	p, err := frame.Read(rd, magicResponse)
	if err != nil {
		return response{}, err
	}
	d := frame.NewDecoder(p)
	h := response{Status: Status(d.U8()), Size: int64(d.U64())}
	h.Identity = d.Str("identity", maxIdentity)
	h.Message = d.Str("message", maxMessage)
	if err := d.End(); err != nil {
		return response{}, err
	}
	if err := h.validate(); err != nil {
		return response{}, err
	}
	return h, nil
}
