package control

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Forwarding frames. Every frame is a 4-byte big-endian length followed by
// that many bytes of body; a stream carries one request and one response.
//
// A request body is
//
//	version (1) | op (1) | timeout in ms (4, big endian, 0 = none) | data
//
// where data is an encoded Command (EncodeCommand) for opApply, empty
// for opReadIndex, and the 64 lowercase hex digits of an API token's
// SHA-256 for opTokenLookup (answered with the token record, hash
// included, or a not_found catalog error). A response body is
//
//	version (1) | status (1) | data
//
// where data is JSON (forwardResult for statusOK, *Error for
// statusCatalogError, notLeaderHint for statusNotLeader) or a UTF-8
// message (statusBadRequest, statusFailed). A new layout gets a new
// version byte.
const forwardVersion byte = 1

// forwardOp is the operation of a request.
type forwardOp byte

const (
	opApply       forwardOp = 1
	opReadIndex   forwardOp = 2
	opTokenLookup forwardOp = 3
)

// forwardStatus is the outcome carried by a response.
type forwardStatus byte

const (
	statusOK           forwardStatus = 0
	statusCatalogError forwardStatus = 1
	statusNotLeader    forwardStatus = 2
	statusBadRequest   forwardStatus = 3
	statusFailed       forwardStatus = 4
	// statusIndeterminate: the leader lost leadership while committing
	// the write (ErrIndeterminate); the outcome is unknown.
	statusIndeterminate forwardStatus = 5
)

// Frame bounds: a request holds one command (MaxCommandSize) and its
// header; a response holds the stored record, which the FSM may have grown
// (order lists, revision, timestamps) past the command, so it gets twice
// as much.
const (
	forwardRequestHeader = 6
	maxForwardRequest    = MaxCommandSize + forwardRequestHeader
	maxForwardResponse   = 2 * MaxCommandSize
)

// forwardRequest is a decoded request.
type forwardRequest struct {
	op      forwardOp
	timeout time.Duration // 0 = none given
	cmd     []byte        // encoded command (opApply) or token hash (opTokenLookup)
}

// forwardResult is the payload of statusOK. For opApply, Index is the raft
// index of the entry that carried the write (absent from leaders that
// predate batching, whose Revision was that index); for opReadIndex it is
// the read index.
type forwardResult struct {
	Revision uint64          `json:"revision,omitempty"`
	Record   json.RawMessage `json:"record,omitempty"`
	Secret   string          `json:"secret,omitempty"`
	Index    uint64          `json:"index,omitempty"`
}

// notLeaderHint is the payload of statusNotLeader: the leader as the
// answering node knows it (empty when unknown).
type notLeaderHint struct {
	ID   string `json:"leader_id,omitempty"`
	Addr string `json:"leader_addr,omitempty"`
}

// notLeaderError is ErrNotLeader as answered by a remote node.
type notLeaderError struct {
	from string
	hint notLeaderHint
}

func (e *notLeaderError) Error() string {
	return fmt.Sprintf("%v: %s answered, leader %q at %q", ErrNotLeader, e.from, e.hint.ID, e.hint.Addr)
}

func (e *notLeaderError) Unwrap() error { return ErrNotLeader }

// encodeForwardRequest returns the whole frame of r.
func encodeForwardRequest(r forwardRequest) ([]byte, error) {
	switch {
	case r.op == opApply && len(r.cmd) == 0:
		return nil, fmt.Errorf("%w: apply without a command", ErrForwardProtocol)
	case r.op == opReadIndex && len(r.cmd) != 0:
		return nil, fmt.Errorf("%w: read index takes no data", ErrForwardProtocol)
	case r.op == opTokenLookup && checkHash("hash", string(r.cmd)) != nil:
		return nil, fmt.Errorf("%w: token lookup needs a lowercase hex SHA-256", ErrForwardProtocol)
	case r.op != opApply && r.op != opReadIndex && r.op != opTokenLookup:
		return nil, fmt.Errorf("%w: unknown op %d", ErrForwardProtocol, r.op)
	case len(r.cmd) > MaxCommandSize:
		return nil, invalid("payload", "command is %d bytes, limit %d", len(r.cmd), MaxCommandSize)
	}
	ms := uint64(0)
	if r.timeout > 0 {
		ms = min(uint64((r.timeout+time.Millisecond-1)/time.Millisecond), math.MaxUint32)
	}
	b := make([]byte, 4+forwardRequestHeader, 4+forwardRequestHeader+len(r.cmd))
	binary.BigEndian.PutUint32(b[0:4], uint32(forwardRequestHeader+len(r.cmd)))
	b[4], b[5] = forwardVersion, byte(r.op)
	binary.BigEndian.PutUint32(b[6:10], uint32(ms))
	return append(b, r.cmd...), nil
}

// decodeForwardRequest parses a request body (without its length prefix).
// The command itself is checked later by DecodeCommand, so that its errors
// reach the caller as catalog errors. It never panics.
func decodeForwardRequest(b []byte) (forwardRequest, error) {
	var r forwardRequest
	if len(b) < forwardRequestHeader {
		return r, fmt.Errorf("%w: request of %d bytes is shorter than its header", ErrForwardProtocol, len(b))
	}
	if len(b) > maxForwardRequest {
		return r, fmt.Errorf("%w: request of %d bytes, limit %d", ErrForwardProtocol, len(b), maxForwardRequest)
	}
	if b[0] != forwardVersion {
		return r, fmt.Errorf("%w: unknown request version %d", ErrForwardProtocol, b[0])
	}
	r.op = forwardOp(b[1])
	r.timeout = time.Duration(binary.BigEndian.Uint32(b[2:6])) * time.Millisecond
	data := b[forwardRequestHeader:]
	switch r.op {
	case opApply:
		if len(data) == 0 {
			return forwardRequest{}, fmt.Errorf("%w: apply without a command", ErrForwardProtocol)
		}
		r.cmd = data
	case opReadIndex:
		if len(data) != 0 {
			return forwardRequest{}, fmt.Errorf("%w: read index with %d bytes of data", ErrForwardProtocol, len(data))
		}
	case opTokenLookup:
		if checkHash("hash", string(data)) != nil {
			return forwardRequest{}, fmt.Errorf("%w: token lookup needs a lowercase hex SHA-256, got %d bytes", ErrForwardProtocol, len(data))
		}
		r.cmd = data
	default:
		return forwardRequest{}, fmt.Errorf("%w: unknown op %d", ErrForwardProtocol, b[1])
	}
	return r, nil
}

// encodeForwardResponse returns the whole frame of a response. An
// oversized payload is replaced by a statusFailed message.
func encodeForwardResponse(st forwardStatus, data []byte) []byte {
	if 2+len(data) > maxForwardResponse {
		st, data = statusFailed, fmt.Appendf(nil, "response of %d bytes exceeds %d", len(data), maxForwardResponse)
	}
	b := make([]byte, 6, 6+len(data))
	binary.BigEndian.PutUint32(b[0:4], uint32(2+len(data)))
	b[4], b[5] = forwardVersion, byte(st)
	return append(b, data...)
}

// jsonResponse encodes v as the data of a response with status st.
func jsonResponse(st forwardStatus, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		return encodeForwardResponse(statusFailed, fmt.Appendf(nil, "encode response: %v", err))
	}
	return encodeForwardResponse(st, data)
}

func okResponse(r *forwardResult) []byte { return jsonResponse(statusOK, r) }

// decodeForwardResponse parses a response body into a result or the error
// it carries: *Error, ErrNotLeader (as *notLeaderError),
// ErrForwardProtocol or ErrForwardFailed.
func decodeForwardResponse(b []byte) (*forwardResult, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: response of %d bytes", ErrForwardProtocol, len(b))
	}
	if b[0] != forwardVersion {
		return nil, fmt.Errorf("%w: unknown response version %d", ErrForwardProtocol, b[0])
	}
	data := b[2:]
	switch forwardStatus(b[1]) {
	case statusOK:
		var r forwardResult
		if err := decodeJSON(data, &r); err != nil {
			return nil, err
		}
		return &r, nil
	case statusCatalogError:
		var e Error
		if err := decodeJSON(data, &e); err != nil {
			return nil, err
		}
		if !knownCode(e.Code) {
			return nil, fmt.Errorf("%w: unknown error code %q", ErrForwardProtocol, e.Code)
		}
		return nil, &e
	case statusNotLeader:
		var h notLeaderHint
		if err := decodeJSON(data, &h); err != nil {
			return nil, err
		}
		return nil, &notLeaderError{hint: h}
	case statusBadRequest:
		return nil, fmt.Errorf("%w: leader rejected the request: %s", ErrForwardProtocol, data)
	case statusFailed:
		return nil, fmt.Errorf("%w: %s", ErrForwardFailed, data)
	case statusIndeterminate:
		return nil, fmt.Errorf("%w (at the leader: %s)", ErrIndeterminate, data)
	}
	return nil, fmt.Errorf("%w: unknown response status %d", ErrForwardProtocol, b[1])
}

// decodeJSON decodes exactly one JSON value from data into v.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: decode response: %v", ErrForwardProtocol, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after response", ErrForwardProtocol)
	}
	return nil
}

func knownCode(c Code) bool {
	switch c {
	case CodeNotFound, CodeConflict, CodeInvalid, CodeRefMissing:
		return true
	}
	return false
}

// readFrame reads one length-prefixed frame of at most limit bytes.
func readFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: read frame header: %w", ErrForwardProtocol, err)
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if n == 0 || n > limit {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrForwardProtocol, n, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: read frame: %w", ErrForwardProtocol, err)
	}
	return b, nil
}
