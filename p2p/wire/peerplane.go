package wire

import "errors"

// Peer ↔ peer control messages (the peer plane also uses HaveMsg).
type (
	// GetMsg requests segment Seq; ID is chosen by the requester.
	GetMsg struct {
		ID  uint64 `json:"id"`
		Seq uint64 `json:"seq"`
	}
	// DataMsg announces Size bytes of segment Seq in binary frames.
	DataMsg struct {
		ID   uint64 `json:"id"`
		Seq  uint64 `json:"seq"`
		Size int64  `json:"size"`
	}
	// NoneMsg: the segment is not available.
	NoneMsg struct {
		ID uint64 `json:"id"`
	}
	// CancelMsg: the requester gives up request ID.
	CancelMsg struct {
		ID uint64 `json:"id"`
	}
)

func (GetMsg) Type() string    { return TypeGet }
func (DataMsg) Type() string   { return TypeData }
func (NoneMsg) Type() string   { return TypeNone }
func (CancelMsg) Type() string { return TypeCancel }

func (m *GetMsg) validate() error {
	if m.ID > MaxSeq {
		return errors.New("id out of range")
	}
	return validSeq(m.Seq)
}

func (m *DataMsg) validate() error {
	if m.ID > MaxSeq || m.Size < 0 || m.Size > MaxSegmentBytes {
		return errors.New("id or size out of range")
	}
	return validSeq(m.Seq)
}

func (m *NoneMsg) validate() error   { return validID(m.ID) }
func (m *CancelMsg) validate() error { return validID(m.ID) }

func validID(id uint64) error {
	if id > MaxSeq {
		return errors.New("id out of range")
	}
	return nil
}
