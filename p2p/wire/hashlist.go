package wire

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// MaxHashListBytes bounds a decompressed hashes.json a client reads.
const MaxHashListBytes = 16 << 20

// Digest is what the edge published for one segment: its SHA-256 and size.
// The zero value is no digest.
type Digest struct {
	Sum  [32]byte
	Size int64
}

// ParseDigest reads a digest in its wire form (64 hex characters, a size
// within [0, MaxSegmentBytes]); ok is false for anything else.
func ParseDigest(sha256 string, size int64) (d Digest, ok bool) {
	if len(sha256) != 64 || size < 0 || size > MaxSegmentBytes {
		return Digest{}, false
	}
	if _, err := hex.Decode(d.Sum[:], []byte(sha256)); err != nil {
		return Digest{}, false
	}
	d.Size = size
	return d, true
}

// Hex is the wire form of the SHA-256 (64 lowercase hex characters).
func (d Digest) Hex() string { return hex.EncodeToString(d.Sum[:]) }

// HashList is hashes.json (PROTOCOL.md, "Hash list").
type HashList struct {
	V        int         `json:"v"`
	Swarm    string      `json:"swarm"`
	Segments []HashEntry `json:"segments"`
}

// HashEntry is one segment of a hash list, in the wire form.
type HashEntry struct {
	Seq    uint64 `json:"seq"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// AppendHashList appends the hashes.json of swarm (a valid swarm id) with
// the digests of seqs, in that order, to b. It writes the JSON by hand: the
// tracker rebuilds lists of up to thousands of entries as segments arrive.
func AppendHashList(b []byte, swarm string, seqs []uint64, sums map[uint64]Digest) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, ProtocolVersion, 10)
	b = append(b, `,"swarm":"`...)
	b = append(b, swarm...) // a valid swarm id needs no escaping
	b = append(b, `","segments":[`...)
	for i, q := range seqs {
		if i > 0 {
			b = append(b, ',')
		}
		d := sums[q]
		b = append(b, `{"seq":`...)
		b = strconv.AppendUint(b, q, 10)
		b = append(b, `,"sha256":"`...)
		b = hex.AppendEncode(b, d.Sum[:])
		b = append(b, `","size":`...)
		b = strconv.AppendInt(b, d.Size, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// DecodeHashList reads hashes.json from r (at most MaxHashListBytes) and
// checks its version. Entries are not validated: take them with
// ParseDigest.
func DecodeHashList(r io.Reader) (*HashList, error) {
	var list HashList
	if err := json.NewDecoder(io.LimitReader(r, MaxHashListBytes)).Decode(&list); err != nil {
		return nil, fmt.Errorf("p2p: hash list: %w", err)
	}
	if list.V != ProtocolVersion {
		return nil, fmt.Errorf("p2p: hash list version %d", list.V)
	}
	return &list, nil
}
