package cluster

import (
	"fmt"
	"io"
)

// OriginALPN is the ALPN of the remote-origin protocol.
const OriginALPN = "classmesh-origin/1"

// Remote-origin bounds.
const (
	// MaxOriginRead bounds the length of one READ request.
	MaxOriginRead = 8 << 20
	// MaxOriginList bounds the encoded asset list of one LIST answer.
	MaxOriginList = 16 << 20
	maxIdentity   = 256
)

// OriginOp is a remote-origin request type.
type OriginOp uint8

// Remote-origin operations.
const (
	// OpList asks for the asset list (JSON array of origin.AssetSpec).
	OpList OriginOp = iota + 1
	// OpStat asks for a file's size and identity.
	OpStat
	// OpRead asks for Length bytes at Offset of a file.
	OpRead
)

// OriginRequest is one remote-origin request.
//
// Wire payload (magic "CMO\x01"): op uint8 | path (uint16 length, at most
// 1 KiB) | offset int64 | length int64. Path is empty for LIST; Offset and
// Length are zero except for READ.
type OriginRequest struct {
	Op     OriginOp
	Path   string
	Offset int64
	Length int64
}

// Validate checks the request's shape (not the path's safety: the server
// runs origin.CleanPath on it).
func (r OriginRequest) Validate() error {
	switch {
	case r.Op < OpList || r.Op > OpRead:
		return fmt.Errorf("%w: unknown op %d", ErrMalformed, r.Op)
	case len(r.Path) > maxPathField || !printable(r.Path):
		return fmt.Errorf("%w: path too long or not printable", ErrMalformed)
	case r.Op == OpList && r.Path != "":
		return fmt.Errorf("%w: LIST takes no path", ErrMalformed)
	case r.Op != OpList && r.Path == "":
		return fmt.Errorf("%w: path required", ErrMalformed)
	case r.Offset < 0:
		return fmt.Errorf("%w: negative offset", ErrMalformed)
	case r.Length < 0 || r.Length > MaxOriginRead:
		return fmt.Errorf("%w: length %d out of [0, %d]", ErrMalformed, r.Length, MaxOriginRead)
	case r.Op != OpRead && (r.Offset != 0 || r.Length != 0):
		return fmt.Errorf("%w: offset and length only with READ", ErrMalformed)
	}
	return nil
}

// MarshalBinary encodes the request as a complete frame.
func (r OriginRequest) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var e encoder
	e.u8(uint8(r.Op))
	e.str(r.Path)
	e.u64(uint64(r.Offset))
	e.u64(uint64(r.Length))
	return frame(magicOriginReq, e.b)
}

// DecodeOriginRequest reads one request frame from rd. Malformed frames
// wrap ErrMalformed.
func DecodeOriginRequest(rd io.Reader) (OriginRequest, error) {
	p, err := readFrame(rd, magicOriginReq)
	if err != nil {
		return OriginRequest{}, err
	}
	d := decoder{b: p}
	r := OriginRequest{Op: OriginOp(d.u8())}
	r.Path = d.str("path", maxPathField)
	r.Offset = int64(d.u64())
	r.Length = int64(d.u64())
	if err := d.end(); err != nil {
		return OriginRequest{}, err
	}
	if err := r.Validate(); err != nil {
		return OriginRequest{}, err
	}
	return r, nil
}

// originResponse is the header of a remote-origin answer; Size body bytes
// follow for a successful LIST or READ.
//
// Wire payload (magic "CMo\x01"): status uint8 (FillStatus values) | size
// int64 | identity (at most 256 bytes) | message.
type originResponse struct {
	Status   FillStatus
	Size     int64 // STAT: file size; LIST/READ: body length
	Identity string
	Message  string
}

func (h originResponse) validate() error {
	switch {
	case !h.Status.valid():
		return fmt.Errorf("%w: unknown status %d", ErrMalformed, h.Status)
	case h.Size < 0:
		return fmt.Errorf("%w: negative size", ErrMalformed)
	case len(h.Identity) > maxIdentity || !printable(h.Identity):
		return fmt.Errorf("%w: identity too long or not printable", ErrMalformed)
	case len(h.Message) > maxMessage || !printable(h.Message):
		return fmt.Errorf("%w: message too long or not printable", ErrMalformed)
	}
	return nil
}

func (h originResponse) marshal() ([]byte, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	var e encoder
	e.u8(uint8(h.Status))
	e.u64(uint64(h.Size))
	e.str(h.Identity)
	e.str(h.Message)
	return frame(magicOriginResp, e.b)
}

func decodeOriginResponse(rd io.Reader) (originResponse, error) {
	p, err := readFrame(rd, magicOriginResp)
	if err != nil {
		return originResponse{}, err
	}
	d := decoder{b: p}
	h := originResponse{Status: FillStatus(d.u8()), Size: int64(d.u64())}
	h.Identity = d.str("identity", maxIdentity)
	h.Message = d.str("message", maxMessage)
	if err := d.end(); err != nil {
		return originResponse{}, err
	}
	if err := h.validate(); err != nil {
		return originResponse{}, err
	}
	return h, nil
}
