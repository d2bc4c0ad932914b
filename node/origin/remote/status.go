package remote

import (
	"fmt"

	"github.com/quic-go/quic-go"
)

// Status is the status byte of an answer. Its values are those of the fill
// protocol's statuses (cluster/fill.FillStatus), from which the protocol took
// them; the wire format fixes them. Value 5 (the fill protocol's
// "wrong_owner") is valid on the wire but never sent here.
type Status uint8

// Answer statuses. The zero value is invalid on the wire.
const (
	// StatusOK: the answer (and for LIST and READ its body) follows.
	StatusOK Status = 1
	// StatusNotFound: the path does not exist in the library.
	StatusNotFound Status = 2
	// StatusUnprocessable: the request is malformed or its path unsafe.
	StatusUnprocessable Status = 3
	// StatusBusy: the server is closing or over MaxConcurrent.
	StatusBusy Status = 4
	// StatusError: the library failed (its HTTP server is down, say).
	StatusError Status = 6
)

var statusNames = [...]string{"", "ok", "not_found", "unprocessable", "busy", "wrong_owner", "error"}

// String returns the status name ("ok", "not_found", ...).
func (s Status) String() string {
	if s.valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

func (s Status) valid() bool { return s >= StatusOK && s <= StatusError }

// Stream error codes, the same values the fill protocol uses.
const (
	codeHandlerFailed quic.StreamErrorCode = 0x101 // server failed writing the answer
	codeCanceled      quic.StreamErrorCode = 0x102 // requester gave up
)
