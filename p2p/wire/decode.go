package wire

import (
	"encoding/json"
	"fmt"
)

// field is one allowed field of a message type.
type field struct {
	name     string
	required bool
}

// spec describes one message type for the strict decoder.
type spec struct {
	fields []field
	new    func() Message
}

var clientSpecs = map[string]spec{
	TypeJoin:   {[]field{{"swarm", true}, {"upload", false}}, func() Message { return new(JoinMsg) }},
	TypeHave:   {[]field{{"ranges", true}}, func() Message { return new(HaveMsg) }},
	TypeLost:   {[]field{{"ranges", true}}, func() Message { return new(LostMsg) }},
	TypeWant:   {[]field{{"seq", true}}, func() Message { return new(WantMsg) }},
	TypeSignal: {[]field{{"to", true}, {"data", true}}, func() Message { return new(SignalMsg) }},
	TypeReport: {[]field{{"seq", true}, {"source", true}, {"peer", false}, {"bytes", true},
		{"ok", true}, {"reason", false}}, func() Message { return new(ReportMsg) }},
	TypeBye: {nil, func() Message { return new(ByeMsg) }},
}

var peerSpecs = map[string]spec{
	TypeHave:   {[]field{{"ranges", true}}, func() Message { return new(HaveMsg) }},
	TypeGet:    {[]field{{"id", true}, {"seq", true}}, func() Message { return new(GetMsg) }},
	TypeData:   {[]field{{"id", true}, {"seq", true}, {"size", true}}, func() Message { return new(DataMsg) }},
	TypeNone:   {[]field{{"id", true}}, func() Message { return new(NoneMsg) }},
	TypeCancel: {[]field{{"id", true}}, func() Message { return new(CancelMsg) }},
}

var trackerTypes = map[string]func() Message{
	TypeWelcome:   func() Message { return new(WelcomeMsg) },
	TypePeers:     func() Message { return new(PeersMsg) },
	TypeFetch:     func() Message { return new(FetchMsg) },
	TypeHash:      func() Message { return new(HashMsg) },
	TypeNeighbors: func() Message { return new(NeighborsMsg) },
	TypeSignal:    func() Message { return new(SignalMsg) },
	TypeConfig:    func() Message { return new(ConfigMsg) },
	TypeDrop:      func() Message { return new(DropMsg) },
	TypeError:     func() Message { return new(ErrorMsg) },
}

// DecodeClientMessage strictly decodes one client → tracker message: the
// size limit, exact (case-sensitive) field names, no unknown or missing
// fields, no nulls, and every value range of PROTOCOL.md are enforced.
// Errors wrap ErrTooLarge or ErrBadMessage. The result is a pointer
// (*JoinMsg, *HaveMsg, ...).
func DecodeClientMessage(b []byte) (Message, error) {
	return decodeStrict(b, MaxMessageBytes, clientSpecs)
}

// DecodePeerMessage strictly decodes one peer-plane control message (have,
// get, data, none, cancel), like DecodeClientMessage but limited to
// MaxPeerMessageBytes.
func DecodePeerMessage(b []byte) (Message, error) {
	return decodeStrict(b, MaxPeerMessageBytes, peerSpecs)
}

// DecodeTrackerMessage decodes one tracker → client message for a client
// (p2p/peer). It is lenient as PROTOCOL.md asks of clients: unknown fields
// are ignored and an unknown type returns (nil, nil).
func DecodeTrackerMessage(b []byte) (Message, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	var head struct {
		T string `json:"t"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	mk, ok := trackerTypes[head.T]
	if !ok {
		return nil, nil
	}
	m := mk()
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadMessage, head.T, err)
	}
	return m, nil
}

func decodeStrict(b []byte, limit int, specs map[string]spec) (Message, error) {
	if len(b) > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), limit)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrBadMessage)
	}
	var t string
	if err := json.Unmarshal(raw["t"], &t); err != nil || !isString(raw["t"]) {
		return nil, fmt.Errorf("%w: missing or invalid \"t\"", ErrBadMessage)
	}
	sp, ok := specs[t]
	if !ok {
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadMessage, truncate(t))
	}
	if err := checkFields(raw, sp.fields); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadMessage, t, err)
	}
	m := sp.new()
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadMessage, t, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadMessage, t, err)
	}
	return m, nil
}

// checkFields enforces exact field names, required fields and no nulls.
func checkFields(raw map[string]json.RawMessage, fields []field) error {
	for k, v := range raw {
		if k == "t" {
			continue
		}
		if !hasField(fields, k) {
			return fmt.Errorf("unknown field %q", truncate(k))
		}
		if string(v) == "null" {
			return fmt.Errorf("field %q is null", k)
		}
	}
	for _, f := range fields {
		if _, ok := raw[f.name]; f.required && !ok {
			return fmt.Errorf("missing field %q", f.name)
		}
	}
	return nil
}

func hasField(fields []field, name string) bool {
	for _, f := range fields {
		if f.name == name {
			return true
		}
	}
	return false
}

func isString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }
