package fill

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/classmesh/classmesh/internal/frame"
)

// FillALPN is the ALPN of the segment fill protocol.
const FillALPN = "classmesh-fill/1"

// FillStatus is the status of a fill response.
type FillStatus uint8

// Fill statuses. The zero value is invalid on the wire.
const (
	// FillOK: the body follows.
	FillOK FillStatus = iota + 1
	// FillNotFound: the asset, rendition or object does not exist.
	FillNotFound
	// FillUnprocessable: the request is malformed or names something that
	// cannot be packaged.
	FillUnprocessable
	// FillBusy: the owner is over its concurrency limit; try elsewhere.
	FillBusy
	// FillWrongOwner: the receiver does not consider itself the owner
	// (its ring epoch differs); the requester should fall back.
	FillWrongOwner
	// FillError: the owner failed (its origin is down, for example).
	FillError
)

var fillStatusNames = [...]string{"", "ok", "not_found", "unprocessable", "busy", "wrong_owner", "error"}

// String returns the status as a metric label ("ok", "not_found", ...).
func (s FillStatus) String() string {
	if int(s) < len(fillStatusNames) && s != 0 {
		return fillStatusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

func (s FillStatus) valid() bool { return s >= FillOK && s <= FillError }

// FillRequest asks the owner of a segment for its bytes.
//
// Wire payload (inside a frame with magic "CMF\x01"): hop uint8 | epoch
// uint64 | requester | region | asset | rendition | object | source, each
// string a uint16 length and at most 256 bytes of printable UTF-8.
type FillRequest struct {
	// Hop counts the nodes the request has reached. Requesters send 1; a
	// handler receiving Hop 1 may forward once with Hop 2 (MaxFillHops); a
	// handler receiving Hop >= MaxFillHops must answer from its own cache or
	// origin and never forward the request again, so a disagreement between
	// rings cannot loop.
	Hop uint8
	// Epoch is the requester's ring epoch, for diagnostics and WrongOwner
	// decisions.
	Epoch uint64
	// Requester is the requesting node's ID; Region the region the
	// requesting client is served in.
	Requester string
	Region    string
	// AssetID, RenditionID and Object ("seg-3.m4s", "init.mp4") name the
	// content; Source is the identity of the source media the requester
	// expects (the origin Object.Identity), "" when unknown.
	AssetID     string
	RenditionID string
	Object      string
	Source      string
}

// Key returns a canonical content key for the request, suitable for
// Ring.Owner: "asset/rendition/object".
func (r FillRequest) Key() string {
	return r.AssetID + "/" + r.RenditionID + "/" + r.Object
}

// Validate checks field bounds and that AssetID and Object are set.
func (r FillRequest) Validate() error {
	fields := []struct{ name, v string }{
		{"requester", r.Requester}, {"region", r.Region}, {"asset", r.AssetID},
		{"rendition", r.RenditionID}, {"object", r.Object}, {"source", r.Source},
	}
	for _, f := range fields {
		if len(f.v) > maxField || !printable(f.v) {
			return fmt.Errorf("%w: %s: too long or not printable", ErrMalformed, f.name)
		}
	}
	if r.AssetID == "" || r.Object == "" {
		return fmt.Errorf("%w: asset and object are required", ErrMalformed)
	}
	return nil
}

// MarshalBinary encodes the request as a complete frame.
func (r FillRequest) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var e frame.Encoder
	e.U8(r.Hop)
	e.U64(r.Epoch)
	for _, s := range []string{r.Requester, r.Region, r.AssetID, r.RenditionID, r.Object, r.Source} {
		e.Str(s)
	}
	return e.Frame(magicFillRequest)
}

// DecodeFillRequest reads one request frame from rd. Malformed frames wrap
// ErrMalformed.
func DecodeFillRequest(rd io.Reader) (FillRequest, error) {
	p, err := frame.Read(rd, magicFillRequest)
	if err != nil {
		return FillRequest{}, err
	}
	d := frame.NewDecoder(p)
	r := FillRequest{Hop: d.U8(), Epoch: d.U64()}
	r.Requester = d.Str("requester", maxField)
	r.Region = d.Str("region", maxField)
	r.AssetID = d.Str("asset", maxField)
	r.RenditionID = d.Str("rendition", maxField)
	r.Object = d.Str("object", maxField)
	r.Source = d.Str("source", maxField)
	if err := d.End(); err != nil {
		return FillRequest{}, err
	}
	if err := r.Validate(); err != nil {
		return FillRequest{}, err
	}
	return r, nil
}

// FillHeader is the response header of a fill, sent before the body.
//
// Wire payload (magic "CMf\x01"): status uint8 | size int64 | flags uint8
// (bit 0: SHA-256 present) | [32]byte SHA-256 when flagged | message.
type FillHeader struct {
	Status FillStatus
	// Size is the body length, or -1 when unknown (the body then ends at
	// the stream's FIN). Only meaningful with FillOK.
	Size int64
	// SHA256 is the digest of the whole body when the owner knows it,
	// else nil. The client verifies it.
	SHA256 []byte
	// Message explains a non-OK status (at most 1 KiB; longer is cut).
	Message string
}

// Validate checks the header's fields.
func (h FillHeader) Validate() error {
	switch {
	case !h.Status.valid():
		return fmt.Errorf("%w: unknown status %d", ErrMalformed, h.Status)
	case h.Size < -1:
		return fmt.Errorf("%w: negative size %d", ErrMalformed, h.Size)
	case h.SHA256 != nil && len(h.SHA256) != 32:
		return fmt.Errorf("%w: SHA-256 of %d bytes", ErrMalformed, len(h.SHA256))
	case len(h.Message) > maxMessage || !printable(h.Message):
		return fmt.Errorf("%w: message too long or not printable", ErrMalformed)
	}
	return nil
}

// MarshalBinary encodes the header as a complete frame.
func (h FillHeader) MarshalBinary() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	var e frame.Encoder
	e.U8(uint8(h.Status))
	e.U64(uint64(h.Size))
	if h.SHA256 != nil {
		e.U8(1)
		e.Raw(h.SHA256)
	} else {
		e.U8(0)
	}
	e.Str(h.Message)
	return e.Frame(magicFillResponse)
}

// DecodeFillResponse reads one response header frame from rd. The body,
// if any, follows on rd. Malformed headers wrap ErrMalformed.
func DecodeFillResponse(rd io.Reader) (FillHeader, error) {
	p, err := frame.Read(rd, magicFillResponse)
	if err != nil {
		return FillHeader{}, err
	}
	d := frame.NewDecoder(p)
	h := FillHeader{Status: FillStatus(d.U8()), Size: int64(d.U64())}
	switch flags := d.U8(); {
	case flags == 1:
		if sum := d.Take(32); sum != nil {
			h.SHA256 = bytes.Clone(sum)
		}
	case flags != 0:
		d.Fail("unknown flags %#x", flags)
	}
	h.Message = d.Str("message", maxMessage)
	if err := d.End(); err != nil {
		return FillHeader{}, err
	}
	if err := h.Validate(); err != nil {
		return FillHeader{}, err
	}
	return h, nil
}

// decodeErrStatus maps an error reading a request to the status answered.
func decodeErrStatus(err error) FillStatus {
	if errors.Is(err, ErrMalformed) {
		return FillUnprocessable
	}
	return FillError
}
