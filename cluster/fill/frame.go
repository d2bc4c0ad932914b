package fill

import "github.com/classmesh/classmesh/internal/frame"

// The fill protocol, like the relay (cluster/relay) and the keys and
// remote-origin protocols, uses the framing of internal/frame:
//
//	magic [4]byte | length uint16 (big endian) | payload [length]byte
//
// with bounded, length-prefixed strings in the payload. The remote-origin
// protocol (node/origin/remote) uses the same framing.
const (
	maxField   = 256              // bound of a fill request string field
	maxMessage = frame.MaxMessage // bound of an error message
)

// Frame magics: "CM" + kind + version. "CMO\x01" and "CMo\x01" belong to
// the remote-origin protocol (node/origin/remote).
var (
	magicFillRequest  = [4]byte{'C', 'M', 'F', 1}
	magicFillResponse = [4]byte{'C', 'M', 'f', 1}
)

// ErrMalformed is wrapped by every decoding error of a protocol frame. It
// is frame.ErrMalformed, so errors.Is holds for either name.
var ErrMalformed = frame.ErrMalformed

// printable reports whether s is valid UTF-8 without C0 controls or DEL.
func printable(s string) bool { return frame.Printable(s) }

// truncMsg bounds an error message for the wire, keeping valid UTF-8 and
// replacing control characters.
func truncMsg(s string) string { return frame.TruncMsg(s) }
