package wire

import "encoding/json"

// Encode returns the JSON of m with its "t" field first. Nil slices of
// peers and ranges are encoded as [] rather than null.
func Encode(m Message) ([]byte, error) {
	m = normalize(m)
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)+len(m.Type())+8)
	out = append(out, `{"t":"`...)
	out = append(out, m.Type()...)
	out = append(out, '"')
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...), nil
}

// MustEncode is Encode for messages that cannot fail to encode (every
// message type of this package whose SignalMsg.Data is valid JSON).
func MustEncode(m Message) []byte {
	b, err := Encode(m)
	if err != nil {
		panic(err)
	}
	return b
}

func normalize(m Message) Message {
	switch v := m.(type) {
	case *PeersMsg:
		if v.Peers == nil {
			c := *v
			c.Peers = []string{}
			return &c
		}
	case *NeighborsMsg:
		if v.Peers == nil {
			return &NeighborsMsg{Peers: []string{}}
		}
	case *HaveMsg:
		if v.Ranges == nil {
			return &HaveMsg{Ranges: []Range{}}
		}
	case *LostMsg:
		if v.Ranges == nil {
			return &LostMsg{Ranges: []Range{}}
		}
	}
	return m
}
